import { render } from "preact";

/** Placeholder shell: the upload, watch and admin pages build on it. */
function App() {
  return (
    <main style={{ fontFamily: "system-ui, sans-serif", maxWidth: "40rem", margin: "2rem auto", padding: "0 1rem" }}>
      <h1>Edge Video</h1>
      <p>Resumable uploads are served at <code>/api/video/uploads</code> (tus 1.0.0).</p>
    </main>
  );
}

render(<App />, document.getElementById("app")!);
