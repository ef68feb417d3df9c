// The typed API clients: openapi-fetch over the generated schema types, so every path, query
// parameter and body is checked by tsc against the server's OpenAPI document.
import createClient, { type Middleware } from "openapi-fetch";

import type { paths } from "./family";
import type { paths as platformPaths } from "./platform";

/** Every API error is {code, message, fields}; network failures get code "network". */
export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public fields: Record<string, string[]> = {},
    public retryAfter: number | null = null,
  ) {
    super(message);
  }
}

export type Auth = { token: string | null; language: string; onUnauthorized?: () => void };

/** Registration openings (docs/rush.md): the pass an admitted family got from
 * `GET /api/v1/openings/{id}/queue`, sent as `X-Waiting-Room-Pass` with every request to the
 * business until it expires (one pass per family; an expired one is dropped, not sent). Cart
 * adds and checkouts of the opening's classes need it; on every other request it tells the
 * server's admission control not to shed the family it let in (the web's pass cookie goes with
 * every request too), so a busy server never answers an admitted family's class list 429. */
type WaitingRoomPass = { opening: string; token: string; expiresAt: number };
let waitingRoomPass: WaitingRoomPass | null = null;

export function keepWaitingRoomPass(opening: string, token: string, expiresAt: string | null) {
  waitingRoomPass = { opening, token, expiresAt: expiresAt ? Date.parse(expiresAt) : Date.now() + 10 * 60_000 };
}

export function currentWaitingRoomPass(now: number = Date.now()): WaitingRoomPass | null {
  if (waitingRoomPass && waitingRoomPass.expiresAt <= now) waitingRoomPass = null;
  return waitingRoomPass;
}

export function forgetWaitingRoomPass() {
  waitingRoomPass = null;
}

/** `origin` is the business's host (https://acme.example.com); paths carry /api/v1/. */
export function familyClient(origin: string, auth: () => Auth) {
  const client = createClient<paths>({ baseUrl: origin.replace(/\/$/, "") });
  const middleware: Middleware = {
    onRequest({ request }) {
      const { token, language } = auth();
      if (token) request.headers.set("Authorization", `Bearer ${token}`);
      request.headers.set("Accept-Language", language);
      const pass = currentWaitingRoomPass();
      if (pass) request.headers.set("X-Waiting-Room-Pass", pass.token);
      return request;
    },
    onResponse({ response }) {
      if (response.status === 401 && auth().token) auth().onUnauthorized?.();
      return response;
    },
  };
  client.use(middleware);
  return client;
}

export type FamilyClient = ReturnType<typeof familyClient>;

export function platformClient(origin: string) {
  return createClient<platformPaths>({ baseUrl: origin.replace(/\/$/, "") });
}

type Result<T> = { data?: T; error?: unknown; response: Response };

/** The body of a successful answer, or an ApiError. */
export async function ok<T>(call: Promise<Result<T>>): Promise<T> {
  let result: Result<T>;
  try {
    result = await call;
  } catch (exc) {
    throw new ApiError(0, "network", exc instanceof Error ? exc.message : String(exc));
  }
  const { data, error, response } = result;
  if (response.ok) return data as T;
  const body = (error ?? {}) as { code?: string; message?: string; fields?: Record<string, string[]> };
  const retry = Number(response.headers.get("Retry-After"));
  throw new ApiError(
    response.status,
    body.code ?? `http_${response.status}`,
    body.message ?? response.statusText,
    body.fields ?? {},
    Number.isFinite(retry) && retry > 0 ? retry : null,
  );
}
