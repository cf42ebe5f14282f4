import type { ComponentChildren } from "preact";

interface InputFieldProps {
  label: string;
  name: string;
  value: string;
  onValue(value: string): void;
  type?: "text" | "number";
  inputMode?: "decimal" | "numeric" | "text";
  min?: number;
  step?: string;
  autoComplete?: string;
  autoCapitalize?: "none" | "off" | "on" | "sentences" | "words" | "characters";
  spellcheck?: boolean;
  required?: boolean;
  "aria-invalid"?: boolean;
  "aria-describedby"?: string;
}

/**
 * A labelled text or number input; numbers and ids read left to right in Arabic too. (The spread is
 * cast because preact types an input's attributes as a union keyed on `type`.)
 */
export function InputField({ label, value, onValue, ...input }: InputFieldProps) {
  return (
    <label class="field">
      <span>{label}</span>
      <input dir="ltr" {...(input as object)} value={value} onInput={(e) => onValue((e.currentTarget as HTMLInputElement).value)} />
    </label>
  );
}

/** A sentence about the page's state: an error is announced at once (alert), the rest politely (status). */
export function Notice({ kind, id, children }: { kind: "error" | "ok" | "info"; id?: string; children: ComponentChildren }) {
  if (children === null || children === undefined || children === false || children === "") return null;
  const error = kind === "error";
  return (
    <p id={id} class={`notice${kind === "info" ? "" : ` ${kind}`}`} role={error ? "alert" : "status"}>
      {children}
    </p>
  );
}

/** A wide table's scroll wrapper, focusable so keyboard users can scroll it (WCAG 2.1.1). */
export function ScrollTable({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    // biome-ignore lint/a11y/useSemanticElements lint/a11y/noNoninteractiveTabindex: a scrolling region must take focus to be scrolled by keyboard.
    <div class="table-scroll" tabIndex={0} role="region" aria-label={label}>
      {children}
    </div>
  );
}
