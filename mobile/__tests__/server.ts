// A fake family API for component tests: routes "METHOD /path" to JSON answers and records
// what the app sent.
export type Call = { method: string; path: string; body: unknown; headers: Headers };
type Answer = { status?: number; body?: unknown; headers?: Record<string, string> };
type Route = Answer | ((call: Call) => Answer);

export function fakeApi(routes: Record<string, Route>) {
  const calls: Call[] = [];
  const fetchMock = jest.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(String(input), init);
    const url = new URL(request.url);
    const text = request.method === "GET" || request.method === "DELETE" ? "" : await request.text();
    const call: Call = { method: request.method, path: url.pathname + url.search, body: text ? JSON.parse(text) : undefined, headers: request.headers };
    calls.push(call);
    const key = `${request.method} ${url.pathname}`;
    const route = routes[`${request.method} ${url.pathname}${url.search}`] ?? routes[key];
    if (!route) return new Response(JSON.stringify({ code: "not_found", message: `no fake for ${key}`, fields: {} }), { status: 404 });
    const answer = typeof route === "function" ? route(call) : route;
    const status = answer.status ?? 200;
    return new Response(status === 204 ? null : JSON.stringify(answer.body ?? {}), {
      status,
      headers: { "Content-Type": "application/json", ...(answer.headers ?? {}) },
    });
  });
  globalThis.fetch = fetchMock as unknown as typeof fetch;
  return { calls, fetchMock };
}

export const PORTAL = {
  tenant: { name: "Acme Gymnastics", slug: "acme", timezone: "America/Chicago", currency: "USD", locale: "en", contact_email: "office@acme.example" },
  settings: {
    mobile_app_enabled: true, visitors_may_create_accounts: true, show_classes: true, show_camps: true, show_events: true,
    show_punch_passes: true, list_visible_when_logged_out: true, openings_display: "numbers", show_levels: true,
    hold_timer_minutes: 15, referral_source_required: true, absences_enabled: true, makeups_enabled: true,
    transfers_enabled: true, drops_enabled: true, stored_payment_method_policy: "optional", gift_certificates_enabled: true,
    punch_passes_enabled: true, welcome_heading: "Welcome to Acme", welcome_message: "Flips for everyone.",
  },
  referral_sources: ["Friend", "Google"],
  announcements: [{ id: 1, title: "Closed Monday", body: "Snow day.", kind: "banner", severity: "info", link_url: "", starts_at: null, ends_at: null }],
  theme: null,
  app: {},
  payments: { publishable_key: null, stripe_account: null, saved_cards: true },
};

export const TOKENS = {
  color: {
    $type: "color",
    primary: { $value: { hex: "#aa0055" } },
    "on-primary": { $value: { hex: "#ffffff" } },
    background: { $value: { hex: "#fffaf0" } },
    surface: { $value: { hex: "#f0e0e0" } },
    text: { $value: { hex: "#101010" } },
  },
  radius: { base: { $value: { value: 14, unit: "px" } } },
};

export function offering(id: number, name: string, extra: Record<string, unknown> = {}) {
  return {
    id, kind: "class", name, program: { id: 1, name: "Gymnastics" }, location: { id: 1, name: "Main gym" }, term: null,
    levels: [], instructors: [], schedule: { start_date: "2027-01-04", end_date: "2027-03-01", days: ["mon"], start_time: "16:00", end_time: "17:00" },
    ages: { min: 5, max: 9 }, gender: "any", price: { tuition: 12000, registration_fee: 0, deposit: 0, currency: "USD" },
    availability: { status: "OPEN", openings: 3, waitlist: 0 }, ...extra,
  };
}
