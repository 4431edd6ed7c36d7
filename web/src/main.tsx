// The browser entry point: makes the API client from the build-time base URL and renders the app.

import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { buildTimeBaseUrl, createCounterApi } from "./api";
import { App } from "./app";
import "./styles.css";

const baseUrl = buildTimeBaseUrl();
const root = document.getElementById("root");
if (root === null) throw new Error('index.html must hold an element with id="root"');

createRoot(root).render(
  <StrictMode>
    <App api={createCounterApi({ baseUrl })} baseUrl={baseUrl} />
  </StrictMode>,
);
