import { useEffect, useState } from "preact/hooks";
import { request } from "../../lib/api.ts";
import { intlLocale } from "../../lib/format.ts";
import { useI18n } from "../../lib/i18n.tsx";
import { InputField, Notice, ScrollTable } from "../../components/Fields.tsx";
import {
  WEBHOOK_EVENTS,
  type WebhookDeliveryListResponse,
  type WebhookDeliveryResponse,
  type WebhookEndpointCreated,
  type WebhookEndpointListResponse,
  type WebhookEndpointResponse,
  type WebhookEventType,
} from "../../../../contract/webhooks.ts";

const BASE = "/api/admin/webhooks";
const hooks = {
  list: (token: string) => request<WebhookEndpointListResponse>(token, "GET", BASE),
  add: (token: string, url: string, events: WebhookEventType[]) => request<WebhookEndpointCreated>(token, "POST", BASE, { url, events }),
  remove: (token: string, id: string) => request<void>(token, "DELETE", `${BASE}/${encodeURIComponent(id)}`),
  deliveries: (token: string, id: string) =>
    request<WebhookDeliveryListResponse>(token, "GET", `${BASE}/${encodeURIComponent(id)}/deliveries`),
  resend: (token: string, id: string, deliveryId: string) =>
    request<WebhookDeliveryResponse>(
      token,
      "POST",
      `${BASE}/${encodeURIComponent(id)}/deliveries/${encodeURIComponent(deliveryId)}/resend`,
    ),
};

/** The admin's webhooks: add an endpoint (its secret shown once), list and delete them, see and resend deliveries. */
export function WebhooksSection({ token }: { token: string }) {
  const { t, lang } = useI18n();
  const [endpoints, setEndpoints] = useState<WebhookEndpointResponse[] | null>(null);
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState<WebhookEventType[]>(["video.uploaded", "video.playable", "video.ready", "video.failed"]);
  const [created, setCreated] = useState<WebhookEndpointCreated | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [deliveries, setDeliveries] = useState<WebhookDeliveryResponse[] | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const fail = (err: unknown) => setError((err as Error).message);
  const load = () => hooks.list(token).then((r) => setEndpoints(r.endpoints), fail);
  const loadDeliveries = (id: string) => hooks.deliveries(token, id).then((r) => setDeliveries(r.deliveries), fail);
  useEffect(() => {
    void load();
  }, []);

  const add = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setCreated(null);
    if (events.length === 0) return setError(t("webhooks.noEvents"));
    try {
      setCreated(await hooks.add(token, url.trim(), events));
      setUrl("");
      await load();
    } catch (err) {
      fail(err);
    }
  };

  const remove = async (ep: WebhookEndpointResponse) => {
    if (!confirm(t("webhooks.deleteConfirm", { url: ep.url }))) return;
    await hooks.remove(token, ep.id).catch(fail);
    if (open === ep.id) setOpen(null);
    await load();
  };

  const toggle = (ep: WebhookEndpointResponse) => {
    setNotice(null);
    if (open === ep.id) return setOpen(null);
    setOpen(ep.id);
    setDeliveries(null);
    void loadDeliveries(ep.id);
  };

  const resend = async (d: WebhookDeliveryResponse) => {
    if (!open) return;
    try {
      await hooks.resend(token, open, d.id);
      setNotice(t("webhooks.resent"));
      await loadDeliveries(open);
    } catch (err) {
      fail(err);
    }
  };

  const time = (iso: string | null) =>
    iso ? new Date(iso).toLocaleString(intlLocale(lang), { dateStyle: "short", timeStyle: "medium" }) : "";

  return (
    <div class="card" data-testid="webhooks">
      <h2>{t("webhooks.title")}</h2>
      <p class="muted">{t("webhooks.intro")}</p>
      <form onSubmit={add} noValidate data-testid="webhook-form">
        <InputField label={t("webhooks.url")} name="url" value={url} onValue={setUrl} autoCapitalize="none" spellcheck={false} />
        <fieldset class="choices">
          <legend>{t("webhooks.events")}</legend>
          {WEBHOOK_EVENTS.map((ev) => (
            <label key={ev} class="choice" dir="ltr">
              <input
                type="checkbox"
                name="events"
                value={ev}
                checked={events.includes(ev)}
                onChange={(e) =>
                  setEvents((e.currentTarget as HTMLInputElement).checked ? [...events, ev] : events.filter((x) => x !== ev))
                }
              />
              {ev}
            </label>
          ))}
        </fieldset>
        <Notice kind="error">{error}</Notice>
        <button type="submit" class="primary">
          {t("webhooks.add")}
        </button>
      </form>
      {created && (
        <div class="notice ok" role="status" data-testid="webhook-secret">
          <p>{t("webhooks.secretOnce", { url: created.url })}</p>
          <code dir="ltr" class="secret">
            {created.secret}
          </code>
        </div>
      )}

      {endpoints?.length === 0 && <p class="muted">{t("webhooks.none")}</p>}
      <ul class="plain">
        {endpoints?.map((ep) => (
          <li key={ep.id} class="webhook-endpoint" data-endpoint-id={ep.id}>
            <div class="row">
              <code dir="ltr">{ep.url}</code>
              <span class="muted small" dir="ltr">
                {ep.events.join(", ")}
              </span>
              <button type="button" class="small" aria-expanded={open === ep.id} onClick={() => toggle(ep)}>
                {open === ep.id ? t("webhooks.hide") : t("webhooks.deliveries")}
              </button>
              <button type="button" class="small danger" onClick={() => void remove(ep)}>
                {t("webhooks.delete")}
              </button>
            </div>
            {open === ep.id && (
              <div>
                <Notice kind="info">{notice}</Notice>
                {deliveries?.length === 0 && <p class="muted">{t("webhooks.noDeliveries")}</p>}
                {deliveries && deliveries.length > 0 && (
                  <ScrollTable label={t("webhooks.deliveries")}>
                    <table class="jobs" data-testid="webhook-deliveries">
                      <thead>
                        <tr>
                          <th scope="col">{t("webhooks.colEvent")}</th>
                          <th scope="col">{t("webhooks.colStatus")}</th>
                          <th scope="col">{t("webhooks.colAttempts")}</th>
                          <th scope="col">{t("webhooks.colLast")}</th>
                          <th scope="col">
                            <span class="visually-hidden">{t("webhooks.resend")}</span>
                          </th>
                        </tr>
                      </thead>
                      <tbody>
                        {deliveries.map((d) => (
                          <tr key={d.id} data-delivery-id={d.id} data-status={d.status}>
                            <td dir="ltr">
                              {d.type}
                              {d.videoId && <div class="muted small">{d.videoId}</div>}
                            </td>
                            <td>{t(`webhooks.status.${d.status}`)}</td>
                            <td>{d.attempts}</td>
                            <td class="small">
                              {time(d.lastAttemptAt)}
                              {d.lastStatus !== null && <span dir="ltr"> · HTTP {d.lastStatus}</span>}
                              {d.lastError && (
                                <div class="muted" lang="en" dir="ltr">
                                  {d.lastError}
                                </div>
                              )}
                            </td>
                            <td>
                              <button type="button" class="small" onClick={() => void resend(d)}>
                                {t("webhooks.resend")}
                              </button>
                            </td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </ScrollTable>
                )}
              </div>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
