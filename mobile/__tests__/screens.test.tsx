import { act, fireEvent, screen, waitFor } from "@testing-library/react-native";

import { forgetWaitingRoomPass } from "../src/api/client";

import { fakeApi, offering, PORTAL, TOKENS } from "./server";
import { renderApp } from "./render";

const base = {
  "GET /api/v1/portal": { body: PORTAL },
  "GET /api/v1/theme/tokens.json": { body: TOKENS },
  "GET /api/v1/waitlist": { body: [] },
  "GET /api/v1/policies": { body: [{ id: 7, title: "Waiver", kind: "waiver", scope: "family", body: "Be careful.", version: 2, required_at_signup: true }] },
};

test("signing in sends the device and shows the business's welcome", async () => {
  const { calls } = fakeApi({ ...base, "POST /api/v1/auth/token": { body: { token: "new-token" } } });
  renderApp({ token: null });
  fireEvent.changeText(await screen.findByLabelText("Email"), " parent@acme.example ");
  fireEvent.changeText(screen.getByLabelText("Password"), "demo-pass-2026");
  fireEvent.press(screen.getByRole("button", { name: "Sign in" }));
  expect(await screen.findByRole("button", { name: "Schedule" })).toBeTruthy(); // the tabs
  await waitFor(() => expect(calls.some((c) => c.path === "/api/v1/waitlist")).toBe(true));
  const signIn = calls.find((c) => c.path === "/api/v1/auth/token")!;
  expect(signIn.body).toMatchObject({ email: "parent@acme.example", password: "demo-pass-2026", device_name: "Test phone" });
  expect((signIn.body as { device: string }).device).toMatch(/^ios-/);
  const after = calls.filter((c) => c.path === "/api/v1/waitlist").at(-1)!;
  expect(after.headers.get("Authorization")).toBe("Bearer new-token");
  expect(screen.getByText("Closed Monday\nSnow day.")).toBeTruthy();
});

test("a wrong password shows the API's message", async () => {
  fakeApi({ ...base, "POST /api/v1/auth/token": { status: 401, body: { code: "invalid_credentials", message: "Wrong email or password.", fields: {} } } });
  renderApp({ token: null });
  fireEvent.changeText(await screen.findByLabelText("Email"), "x@y.z");
  fireEvent.changeText(screen.getByLabelText("Password"), "nope");
  fireEvent.press(screen.getByRole("button", { name: "Sign in" }));
  expect(await screen.findByText("Wrong email or password.")).toBeTruthy();
});

test("sign-up asks for the business's required policies and referral source", async () => {
  const { calls } = fakeApi({ ...base, "POST /api/v1/auth/signup": { status: 201, body: { token: "t2" } } });
  renderApp({ token: null });
  fireEvent.press(await screen.findByRole("button", { name: "New here? Create an account" }));
  fireEvent.changeText(await screen.findByLabelText("First name"), "Ana");
  fireEvent.changeText(screen.getByLabelText("Last name"), "Lopez");
  fireEvent.changeText(screen.getByLabelText("Email"), "ana@example.com");
  fireEvent.changeText(screen.getByLabelText("Password"), "tumbling-mats-2026");
  fireEvent.press(screen.getByRole("radio", { name: "Friend" }));
  fireEvent.changeText(await screen.findByLabelText("Type your full name to sign “Waiver”"), "Ana Lopez");
  fireEvent.press(screen.getByRole("button", { name: "Create an account" }));
  await screen.findByRole("button", { name: "Schedule" });
  const body = calls.find((c) => c.path === "/api/v1/auth/signup")!.body as Record<string, unknown>;
  expect(body).toMatchObject({ first_name: "Ana", referral_source: "Friend", policies: [{ policy: 7, version: 2, signature: "Ana Lopez" }] });
});

test("class search shows availability the way the business shows it, and filters", async () => {
  const { calls } = fakeApi({
    ...base,
    "GET /api/v1/offerings/filters": { body: { kinds: [{ id: "class", name: "Class" }], programs: [{ id: 1, name: "Gymnastics" }, { id: 2, name: "Ninja" }], locations: [], levels: [], instructors: [], terms: [], days: ["mon", "sat"], times_of_day: ["morning"], genders: [] } },
    "GET /api/v1/offerings": (call) => ({
      body: { count: 1, next: null, previous: null, results: [call.path.includes("day=sat") ? offering(2, "Saturday Flips", { availability: { status: "FULL", openings: null, waitlist: 2 } }) : offering(1, "Tumble Tots")] },
    }),
  });
  renderApp();
  fireEvent.press(await screen.findByRole("button", { name: "Classes" }));
  expect(await screen.findByText("Tumble Tots")).toBeTruthy();
  expect(screen.getByText("$120.00 · 3 openings")).toBeTruthy();
  fireEvent.press(screen.getByRole("button", { name: "Filters" }));
  fireEvent.press(await screen.findByRole("radio", { name: "Sat" }));
  fireEvent.press(screen.getByRole("button", { name: "Show classes" }));
  expect(await screen.findByText("Saturday Flips")).toBeTruthy();
  expect(screen.getByText("$120.00 · FULL · 2 on the waitlist")).toBeTruthy();
  expect(calls.some((c) => c.path.includes("/api/v1/offerings?") && c.path.includes("day=sat"))).toBe(true);
});

test("a rush shows the waiting screen and tries again by itself", async () => {
  let busy = true;
  fakeApi({
    ...base,
    "GET /api/v1/offerings/filters": { body: { kinds: [], programs: [], locations: [], levels: [], instructors: [], terms: [], days: [], times_of_day: [], genders: [] } },
    "GET /api/v1/offerings": () =>
      busy
        ? { status: 429, headers: { "Retry-After": "1" }, body: { code: "search_busy", message: "Whoa!", fields: {} } }
        : { body: { count: 1, next: null, previous: null, results: [offering(1, "Tumble Tots")] } },
  });
  renderApp();
  fireEvent.press(await screen.findByRole("button", { name: "Classes" }));
  expect(await screen.findByText(/We will try again in 1 seconds/)).toBeTruthy();
  busy = false; // the next try (after Retry-After) gets the classes
  expect(await screen.findByText("Tumble Tots")).toBeTruthy();
});

test("the cart counts each hold down and checks out into an order", async () => {
  jest.useFakeTimers();
  const cart = {
    items: [{ id: 5, student: { id: 1, first_name: "Mia" }, offering: { id: 1, name: "Tumble Tots", kind: "class" }, expires_at: "2027-01-01T00:00:00Z", seconds_left: 65 }],
    lines: [{ kind: "tuition", description: "Tumble Tots — Mia", amount: 12000 }],
    subtotal: 12000, discount_total: 0, total: 12000, currency: "USD", hold_timer_minutes: 15,
  };
  const { calls } = fakeApi({
    ...base,
    "GET /api/v1/cart": { body: cart },
    "POST /api/v1/checkout": { status: 201, body: { id: 42 } },
    "GET /api/v1/orders/42": { body: { id: 42, status: "awaiting_payment", currency: "USD", subtotal: 12000, discount_total: 0, total: 12000, created_at: "2027-01-01T00:00:00Z", expires_at: "2027-01-01T00:30:00Z", confirmed_at: null, lines: cart.lines, tenders: [{ kind: "gift_certificate", description: "Gift certificate GIFT-1", amount: 2000, status: "reserved" }], amount_due: 10000, enrollment_ids: [] } },
    "GET /api/v1/payment-methods": { body: [{ id: 9, brand: "visa", last4: "4242", exp_month: 12, exp_year: 2030, is_default: true }] },
    "POST /api/v1/orders/42/pay": { status: 201, body: { id: 1, order_id: 42, amount: 12000, currency: "usd", status: "succeeded", client_secret: "x", stripe_account: "acct_1" } },
  });
  renderApp();
  fireEvent.press(await screen.findByRole("button", { name: "Cart" }));
  expect(await screen.findByText("Held for 1:05")).toBeTruthy();
  await act(async () => {
    jest.advanceTimersByTime(2000);
  });
  expect(screen.getByRole("timer").props.children).toBe("Held for 1:03");
  fireEvent.changeText(screen.getByLabelText("Gift certificate code (optional)"), "GIFT-1");
  fireEvent.press(screen.getByRole("button", { name: "Check out" }));
  expect(await screen.findByText("Pay with VISA •••• 4242")).toBeTruthy();
  expect(screen.getByText("-$20.00")).toBeTruthy(); // the gift certificate, a tender
  expect(screen.getByText("$100.00")).toBeTruthy(); // the amount due
  expect(calls.find((c) => c.path === "/api/v1/checkout")!.body).toEqual({ gift_certificate_code: "GIFT-1" });
  fireEvent.press(screen.getByRole("button", { name: "Pay with VISA •••• 4242" }));
  await waitFor(() => expect(calls.some((c) => c.path === "/api/v1/orders/42/pay")).toBe(true));
  expect(calls.find((c) => c.path === "/api/v1/orders/42/pay")!.body).toEqual({ payment_method: 9 });
  jest.useRealTimers();
});

test("an offered waitlist seat is accepted into the cart", async () => {
  const offer = { id: 3, status: "offered", student: { id: 1, first_name: "Mia" }, offering: { id: 1, name: "Rec Gym", kind: "class" }, position: null, offer_expires_at: "2027-01-02T18:00:00Z" };
  const { calls } = fakeApi({
    ...base,
    "GET /api/v1/waitlist": { body: [offer] },
    "POST /api/v1/waitlist/3/accept": { status: 201, body: {} },
    "GET /api/v1/cart": { body: { items: [], lines: [], subtotal: 0, discount_total: 0, total: 0, currency: "USD", hold_timer_minutes: 15 } },
  });
  renderApp();
  expect(await screen.findByText("A seat opened for you")).toBeTruthy();
  expect(screen.getByText("Mia in Rec Gym, until Jan 2, 2027, 12:00 PM")).toBeTruthy(); // Chicago time
  fireEvent.press(screen.getByRole("link", { name: "A seat opened for you" }));
  fireEvent.press(await screen.findByRole("button", { name: "Accept Rec Gym" }));
  await waitFor(() => expect(calls.some((c) => c.method === "POST" && c.path === "/api/v1/waitlist/3/accept")).toBe(true));
});

test("the business's switches hide what it does not offer, and Spanish is one tap away", async () => {
  fakeApi({ ...base, "GET /api/v1/portal": { body: { ...PORTAL, settings: { ...PORTAL.settings, gift_certificates_enabled: false, punch_passes_enabled: false, show_classes: false } } } });
  renderApp();
  fireEvent.press(await screen.findByRole("button", { name: "More" }));
  expect(await screen.findByRole("button", { name: "Billing" })).toBeTruthy();
  expect(screen.queryByRole("button", { name: "Store" })).toBeNull();
  expect(screen.queryByRole("button", { name: "Classes" })).toBeNull();
  fireEvent.press(screen.getByRole("radio", { name: "Español" }));
  expect(await screen.findByRole("button", { name: "Cerrar sesión" })).toBeTruthy();
});

test("the shared app finds a business in the platform directory", async () => {
  const { calls } = fakeApi({
    ...base,
    "GET /api/platform/v1/directory": { body: { count: 1, next: null, previous: null, results: [{ slug: "acme", name: "Acme Gymnastics", portal_url: "http://acme.test/", api_base_url: "http://acme.test/api/v1/" }] } },
  });
  renderApp({ business: null, token: null });
  fireEvent.changeText(await screen.findByLabelText("School name or code"), "acme");
  fireEvent.press(screen.getByRole("button", { name: "Search" }));
  fireEvent.press(await screen.findByRole("link", { name: "Acme Gymnastics" }));
  expect(await screen.findByRole("button", { name: "Sign in" })).toBeTruthy();
  expect(calls.some((c) => c.path === "/api/platform/v1/directory?q=acme")).toBe(true);
  expect(calls.some((c) => c.path === "/api/v1/portal")).toBe(true);
});

// A class in registration opening 3 that the family cannot add without a pass yet.
const rushClass = {
  "GET /api/v1/offerings/filters": { body: { kinds: [], programs: [], locations: [], levels: [], instructors: [], terms: [], days: [], times_of_day: [], genders: [] } },
  "GET /api/v1/offerings": { body: { count: 1, next: null, previous: null, results: [offering(5, "Rush Tumblers")] } },
  "GET /api/v1/offerings/5": { body: { ...offering(5, "Rush Tumblers"), description: "", meetings: [] } },
  "GET /api/v1/family/students": { body: [{ id: 9, first_name: "Mia", last_name: "Lee", is_active: true }] },
  "POST /api/v1/cart/items": { status: 403, body: { code: "waiting_room_pass_required", message: "x", fields: { opening: ["3"] } } },
};

test("a class in a registration opening joins the line, shows the place live, and adds with the pass", async () => {
  let polls = 0;
  const waiting = (position: number) => ({ state: "waiting", position, ahead: position - 1, estimated_wait_seconds: position * 40, seconds_to_open: null, pass_token: "", pass_expires_at: null, poll_seconds: 1 });
  const { calls } = fakeApi({
    ...base,
    "GET /api/v1/offerings/filters": { body: { kinds: [], programs: [], locations: [], levels: [], instructors: [], terms: [], days: [], times_of_day: [], genders: [] } },
    "GET /api/v1/offerings": { body: { count: 1, next: null, previous: null, results: [offering(5, "Rush Tumblers")] } },
    "GET /api/v1/offerings/5": { body: { ...offering(5, "Rush Tumblers"), description: "", meetings: [] } },
    "GET /api/v1/family/students": { body: [{ id: 9, first_name: "Mia", last_name: "Lee", is_active: true }] },
    "POST /api/v1/cart/items": (call) =>
      call.headers.get("X-Waiting-Room-Pass") === "PASS-1"
        ? { status: 201, body: { id: 1 } }
        : { status: 403, body: { code: "waiting_room_pass_required", message: "This class is in a registration opening.", fields: { opening: ["3"] } } },
    "POST /api/v1/openings/3/queue": { body: { ...waiting(3), ticket: "T-1" } },
    "GET /api/v1/openings/3/queue": () => {
      polls += 1;
      return polls === 1
        ? { body: waiting(2) }
        : { body: { state: "admitted", position: null, ahead: null, estimated_wait_seconds: null, seconds_to_open: null, pass_token: "PASS-1", pass_expires_at: "2030-01-04T22:10:00Z", poll_seconds: 2 } };
    },
    "GET /api/v1/cart": { body: { items: [], lines: [], subtotal: 0, discount_total: 0, total: 0, currency: "USD", hold_timer_minutes: 15 } },
  });
  renderApp();
  fireEvent.press(await screen.findByRole("button", { name: "Classes" }));
  fireEvent.press(await screen.findByText("Rush Tumblers"));
  fireEvent.press(await screen.findByRole("button", { name: "Add to cart" }));
  expect(await screen.findByText("You are number 3 in line.")).toBeTruthy();
  expect(screen.getByText("Estimated wait: about 2 min.")).toBeTruthy();
  // The place updates live, at the cadence the API asks for (1 s near the front).
  expect(await screen.findByText("You are number 2 in line.", {}, { timeout: 2600 })).toBeTruthy();
  await waitFor(() => expect(calls.filter((c) => c.path === "/api/v1/cart/items")).toHaveLength(2), { timeout: 2600 });
  const polled = calls.filter((c) => c.method === "GET" && c.path === "/api/v1/openings/3/queue");
  expect(polled.every((c) => c.headers.get("X-Waiting-Room-Ticket") === "T-1")).toBe(true);
  const [first, second] = calls.filter((c) => c.path === "/api/v1/cart/items");
  expect(first.headers.get("X-Waiting-Room-Pass")).toBeNull();
  expect(second.headers.get("X-Waiting-Room-Pass")).toBe("PASS-1");
  expect(second.body).toEqual({ offering: 5, student: 9 });
  // Once admitted, every request to the business carries the pass (admission control never
  // sheds a family it let in), not only the cart add.
  const admittedAt = calls.indexOf(polled[polled.length - 1]);
  const after = calls.slice(admittedAt + 1);
  expect(after.length).toBeGreaterThan(0);
  expect(after.every((c) => c.headers.get("X-Waiting-Room-Pass") === "PASS-1")).toBe(true);
  forgetWaitingRoomPass();
}, 15000);

test("leaving the line sends DELETE with the ticket, and the family can join again", async () => {
  const waiting = { state: "waiting", position: 40, ahead: 39, estimated_wait_seconds: 400, seconds_to_open: null, pass_token: "", pass_expires_at: null, poll_seconds: 20 };
  const { calls } = fakeApi({
    ...base,
    ...rushClass,
    "POST /api/v1/openings/3/queue": { body: { ...waiting, ticket: "T-9" } },
    "GET /api/v1/openings/3/queue": { body: waiting },
    "DELETE /api/v1/openings/3/queue": { status: 204 },
  });
  renderApp();
  fireEvent.press(await screen.findByRole("button", { name: "Classes" }));
  fireEvent.press(await screen.findByText("Rush Tumblers"));
  fireEvent.press(await screen.findByRole("button", { name: "Add to cart" }));
  expect(await screen.findByText("You are number 40 in line.")).toBeTruthy();
  fireEvent.press(screen.getByRole("button", { name: "Leave the line" }));
  expect(await screen.findByText(/You left the line/)).toBeTruthy();
  const left = calls.filter((c) => c.method === "DELETE" && c.path === "/api/v1/openings/3/queue");
  expect(left).toHaveLength(1);
  expect(left[0].headers.get("X-Waiting-Room-Ticket")).toBe("T-9");
  // Far back (20 s asked), the app has not polled again meanwhile.
  expect(calls.filter((c) => c.method === "GET" && c.path === "/api/v1/openings/3/queue")).toHaveLength(0);
  expect(screen.getByRole("button", { name: "Join the line again" })).toBeTruthy();
});

test("while every class is full the line says so at once, keeps the place, and offers to leave", async () => {
  const full = { state: "waiting", position: 700, ahead: 699, estimated_wait_seconds: 600, seconds_to_open: null, pass_token: "", pass_expires_at: null, poll_seconds: 10, all_full: true };
  const { calls } = fakeApi({
    ...base,
    ...rushClass,
    "POST /api/v1/openings/3/queue": { body: { ...full, ticket: "T-7" } },
    "GET /api/v1/openings/3/queue": { body: full },
    "DELETE /api/v1/openings/3/queue": { status: 204 },
  });
  renderApp();
  fireEvent.press(await screen.findByRole("button", { name: "Classes" }));
  fireEvent.press(await screen.findByText("Rush Tumblers"));
  fireEvent.press(await screen.findByRole("button", { name: "Add to cart" }));
  expect(await screen.findByText(/Every class in this registration is full right now/)).toBeTruthy();
  expect(screen.getByText("You are number 700 in line.")).toBeTruthy();
  // Nothing to see every second: the app waits the 10 s the API asks for.
  expect(calls.filter((c) => c.method === "GET" && c.path === "/api/v1/openings/3/queue")).toHaveLength(0);
  fireEvent.press(screen.getByRole("button", { name: "Leave the line" }));
  expect(await screen.findByText(/You left the line/)).toBeTruthy();
  expect(screen.queryByText(/Every class in this registration is full/)).toBeNull();
  expect(calls.filter((c) => c.method === "DELETE" && c.path === "/api/v1/openings/3/queue")).toHaveLength(1);
});

test("an expired pass is explained in Spanish and the family can join the line again", async () => {
  let joins = 0;
  fakeApi({
    ...base,
    ...rushClass,
    "POST /api/v1/openings/3/queue": () => {
      joins += 1;
      return { body: { state: joins === 1 ? "expired" : "before_opening", position: null, ahead: null, estimated_wait_seconds: null, seconds_to_open: joins === 1 ? null : 90, pass_token: "", pass_expires_at: null, poll_seconds: 2, ticket: "T" } };
    },
    "GET /api/v1/openings/3/queue": { body: { state: "before_opening", position: null, ahead: null, estimated_wait_seconds: null, seconds_to_open: 88, pass_token: "", pass_expires_at: null, poll_seconds: 2 } },
  });
  renderApp({ language: "es" });
  fireEvent.press(await screen.findByRole("button", { name: "Clases" }));
  fireEvent.press(await screen.findByText("Rush Tumblers"));
  fireEvent.press(await screen.findByRole("button", { name: "Agregar al carrito" }));
  expect(await screen.findByText(/Tu pase venció antes de terminar el pago/)).toBeTruthy();
  fireEvent.press(screen.getByRole("button", { name: "Volver a la fila" }));
  expect(await screen.findByText(/La inscripción abre en 90 segundos/)).toBeTruthy();
  expect(joins).toBe(2);
});

test("monthly tuition reads /month with the billing day, on the class and in the cart before checkout", async () => {
  const monthly = { ...offering(6, "Swim Monthly"), price: { tuition: 6500, registration_fee: 0, deposit: 0, currency: "USD", tuition_billing: "monthly" } };
  fakeApi({
    ...base,
    "GET /api/v1/portal": { body: { ...PORTAL, settings: { ...PORTAL.settings, billing_day: 15 } } },
    "GET /api/v1/offerings/filters": { body: { kinds: [], programs: [], locations: [], levels: [], instructors: [], terms: [], days: [], times_of_day: [], genders: [] } },
    "GET /api/v1/offerings": { body: { count: 1, next: null, previous: null, results: [monthly] } },
    "GET /api/v1/offerings/6": { body: { ...monthly, description: "", meetings: [] } },
    "GET /api/v1/family/students": { body: [{ id: 9, first_name: "Mia", last_name: "Lee", is_active: true }] },
    "POST /api/v1/cart/items": { status: 201, body: { id: 1 } },
    "GET /api/v1/cart": {
      body: {
        items: [{ id: 1, student: { id: 9, first_name: "Mia" }, offering: { id: 6, name: "Swim Monthly", kind: "class" }, expires_at: "2030-01-01T00:00:00Z", seconds_left: 600, tuition: 6500, tuition_billing: "monthly" }],
        lines: [{ kind: "tuition", description: "Swim Monthly — Mia", amount: 6500 }],
        subtotal: 6500, discount_total: 0, total: 6500, currency: "USD", hold_timer_minutes: 15,
      },
    },
  });
  renderApp();
  fireEvent.press(await screen.findByRole("button", { name: "Classes" }));
  fireEvent.press(await screen.findByText("Swim Monthly"));
  expect(await screen.findByText("Tuition: $65.00/month")).toBeTruthy();
  expect(screen.getByText("The first month is paid at checkout; then autopay charges your saved card on day 15 of each month.")).toBeTruthy();
  fireEvent.press(screen.getByRole("button", { name: "Add to cart" }));
  expect(await screen.findByText(/after that, autopay charges your saved card on day 15 of each month/i)).toBeTruthy();
  expect(screen.getByText("Swim Monthly — Mia: $65.00/month")).toBeTruthy();
  expect(screen.getByRole("button", { name: "Check out" })).toBeTruthy();
});

test("a camp booked by the day: the family picks two days (a full one cannot be picked) and sends them", async () => {
  const camp = { ...offering(7, "Day Camp"), kind: "camp", price: { tuition: 40000, registration_fee: 0, deposit: 0, currency: "USD", tuition_billing: "term" } };
  const choice = (start: string, status: string) => ({ start, end: start, days: [start], price: 4500, status, seats_left: status === "FULL" ? 0 : 3 });
  const { calls } = fakeApi({
    ...base,
    "GET /api/v1/offerings/filters": { body: { kinds: [], programs: [], locations: [], levels: [], instructors: [], terms: [], days: [], times_of_day: [], genders: [] } },
    "GET /api/v1/offerings": { body: { count: 1, next: null, previous: null, results: [camp] } },
    "GET /api/v1/offerings/7": {
      body: {
        ...camp, description: "", meetings: [], camp_selection: "day", camp_unit_price: 4500,
        camp_choices: [choice("2030-07-01", "FULL"), choice("2030-07-02", "OPEN"), choice("2030-07-03", "OPEN")],
      },
    },
    "GET /api/v1/family/students": { body: [{ id: 9, first_name: "Mia", last_name: "Lee", is_active: true }] },
    "POST /api/v1/cart/items": { status: 201, body: { id: 1 } },
    "GET /api/v1/cart": {
      body: {
        items: [{ id: 1, student: { id: 9, first_name: "Mia" }, offering: { id: 7, name: "Day Camp", kind: "camp" }, expires_at: "2030-01-01T00:00:00Z", seconds_left: 600, camp_days: ["2030-07-02", "2030-07-03"], tuition: 9000, tuition_billing: "term" }],
        lines: [{ kind: "tuition", description: "Day Camp — Mia (2 days: Jul 2, Jul 3)", amount: 9000 }],
        subtotal: 9000, discount_total: 0, total: 9000, currency: "USD", hold_timer_minutes: 15,
      },
    },
  });
  renderApp();
  fireEvent.press(await screen.findByRole("button", { name: "Classes" }));
  fireEvent.press(await screen.findByText("Day Camp"));
  expect(await screen.findByText("Price per day: $45.00")).toBeTruthy();
  const days = screen.getAllByRole("checkbox");
  expect(days).toHaveLength(3);
  expect(days[0].props.accessibilityState?.disabled ?? days[0].props["aria-disabled"]).toBe(true);
  expect(screen.getByRole("button", { name: "Add to cart" })).toBeDisabled();
  fireEvent.press(days[1]);
  fireEvent.press(days[2]);
  fireEvent.press(screen.getByRole("button", { name: "Add to cart" }));
  await waitFor(() => expect(calls.some((c) => c.method === "POST" && c.path === "/api/v1/cart/items")).toBe(true));
  const sent = calls.find((c) => c.method === "POST" && c.path === "/api/v1/cart/items");
  expect(sent?.body).toEqual({ offering: 7, student: 9, days: ["2030-07-02", "2030-07-03"] });
  expect(await screen.findByText("Day Camp — Mia (2 days: Jul 2, Jul 3)")).toBeTruthy();
  expect(screen.getByText("Tue, Jul 2, 2030, Wed, Jul 3, 2030")).toBeTruthy();
});

test("the balance counts unpaid orders, as the API answers it", async () => {
  fakeApi({
    ...base,
    "GET /api/v1/ledger": {
      body: {
        entries: [], balance: 2000, credit: 0, past_due: 500, currency: "USD", owed: 14000,
        unpaid_orders: [{ order_id: 42, kind: "registration", description: "Tumble Tots — Mia", amount_due: 12000, expires_at: null }],
      },
    },
    "GET /api/v1/payment-methods": { body: [] },
  });
  renderApp();
  fireEvent.press(await screen.findByRole("button", { name: "More" }));
  fireEvent.press(await screen.findByRole("button", { name: "Billing" }));
  expect(await screen.findByText("Total owed")).toBeTruthy();
  expect(screen.getByText("$140.00")).toBeTruthy();
  expect(screen.getByText("$20.00")).toBeTruthy(); // the ledger balance on its own
  expect(screen.getByText("Order 42 · $120.00")).toBeTruthy();
  expect(screen.getByText("Tumble Tots — Mia")).toBeTruthy();
  expect(screen.getByText("Past due: $5.00")).toBeTruthy();
});

test("the schedule shows this term's classes so far with the attendance staff took", async () => {
  const enrollment = {
    id: 3, status: "active", student: { id: 1, first_name: "Mia" }, offering: { id: 1, name: "Tumble Tots", kind: "class" },
    start_date: "2026-11-02", end_date: null, schedule: { days: ["mon"], start_time: "16:00", end_time: "17:00" },
    location: "Main gym", instructors: ["Coach Kim"], next_meetings: ["2026-11-23"],
    past_meetings: [
      { date: "2026-11-02", attendance: "present" },
      { date: "2026-11-09", attendance: "excused" },
      { date: "2026-11-16", attendance: "" },
    ],
  };
  fakeApi({ ...base, "GET /api/v1/enrollments": { body: [enrollment] }, "GET /api/v1/makeup-tokens": { body: [] } });
  renderApp();
  fireEvent.press(await screen.findByRole("button", { name: "Schedule" }));
  expect(await screen.findByText("This term so far")).toBeTruthy();
  expect(screen.getByText("3 classes: 1 attended, 0 late, 1 excused, 0 missed")).toBeTruthy();
  expect(screen.getByTestId("mark-2026-11-02").props.children).toBe("Mon, Nov 2, 2026 · Attended");
  expect(screen.getByTestId("mark-2026-11-09").props.children).toBe("Mon, Nov 9, 2026 · Excused");
  expect(screen.getByTestId("mark-2026-11-16").props.children).toBe("Mon, Nov 16, 2026 · Not marked");
});

test("the family screen shows a student's photo through its signed link, and nothing for one without", async () => {
  const guardian = { id: 1, first_name: "Pat", last_name: "Rivera", email: "pat@example.com", phone: "", relationship: "", is_primary: true };
  const student = (id: number, first: string, photo: string | null) => ({
    id, first_name: first, last_name: "Rivera", date_of_birth: "2019-03-01", gender: "unspecified", level: null, medical_notes: "", is_active: true, photo_url: photo,
  });
  const family = {
    id: 1, name: "The Rivera family", status: "active", address_line1: "", address_line2: "", city: "", region: "", postal_code: "", country: "", referral_source: "",
    guardians: [guardian], emergency_contacts: [], policies_to_accept: [], you: guardian,
    students: [student(1, "Mia", "https://acme.example/media/private/signed-token"), student(2, "Leo", null)],
  };
  fakeApi({ ...base, "GET /api/v1/family": { body: family } });
  renderApp();
  fireEvent.press(await screen.findByRole("button", { name: "More" }));
  fireEvent.press(await screen.findByRole("button", { name: "Family" }));
  const photo = await screen.findByTestId("photo-1");
  expect(photo.props.source).toEqual({ uri: "https://acme.example/media/private/signed-token" });
  expect(photo.props.accessibilityLabel).toBe("Photo of Mia");
  expect(screen.queryByTestId("photo-2")).toBeNull();
});

test("when the family's students do not load, the class says so and tries again (not 'add a student first')", async () => {
  let studentsAsked = 0;
  fakeApi({
    ...base,
    "GET /api/v1/offerings/filters": { body: { kinds: [], programs: [], locations: [], levels: [], instructors: [], terms: [], days: [], times_of_day: [], genders: [] } },
    "GET /api/v1/offerings": { body: { count: 1, next: null, previous: null, results: [offering(6, "Tumble Tots")] } },
    "GET /api/v1/offerings/6": { body: { ...offering(6, "Tumble Tots"), description: "", meetings: [] } },
    "GET /api/v1/family/students": () =>
      ++studentsAsked === 1
        ? { status: 503, body: { code: "unavailable", message: "The portal is catching its breath.", fields: {} } }
        : { body: [{ id: 9, first_name: "Mia", last_name: "Lee", is_active: true }] },
  });
  renderApp();
  fireEvent.press(await screen.findByRole("button", { name: "Classes" }));
  fireEvent.press(await screen.findByText("Tumble Tots"));
  expect(await screen.findByText("The portal is catching its breath.")).toBeTruthy();
  expect(screen.queryByText("Add a student to your family first.")).toBeNull();
  expect(screen.queryByRole("button", { name: "Add to cart" })).toBeNull();
  fireEvent.press(screen.getByRole("button", { name: "Try again" }));
  expect(await screen.findByRole("button", { name: "Add to cart" })).toBeTruthy();
  expect(screen.queryByText("The portal is catching its breath.")).toBeNull();
  expect(studentsAsked).toBe(2);
});

test("an order awaiting payment whose saved cards did not load says so and tries again", async () => {
  let cardsAsked = 0;
  const cart = {
    items: [{ id: 5, student: { id: 1, first_name: "Mia" }, offering: { id: 1, name: "Tumble Tots", kind: "class" }, expires_at: "2030-01-01T00:00:00Z", seconds_left: 600 }],
    lines: [{ kind: "tuition", description: "Tumble Tots — Mia", amount: 12000 }],
    subtotal: 12000, discount_total: 0, total: 12000, currency: "USD", hold_timer_minutes: 15,
  };
  fakeApi({
    ...base,
    "GET /api/v1/cart": { body: cart },
    "POST /api/v1/checkout": { status: 201, body: { id: 42 } },
    "GET /api/v1/orders/42": { body: { id: 42, status: "awaiting_payment", currency: "USD", subtotal: 12000, discount_total: 0, total: 12000, created_at: "2030-01-01T00:00:00Z", expires_at: "2030-01-01T00:30:00Z", confirmed_at: null, lines: cart.lines, tenders: [], amount_due: 12000, enrollment_ids: [] } },
    "GET /api/v1/payment-methods": () =>
      ++cardsAsked === 1
        ? { status: 503, body: { code: "unavailable", message: "Your saved cards could not be read just now.", fields: {} } }
        : { body: [{ id: 9, brand: "visa", last4: "4242", exp_month: 12, exp_year: 2030, is_default: true }] },
  });
  renderApp();
  fireEvent.press(await screen.findByRole("button", { name: "Cart" }));
  fireEvent.press(await screen.findByRole("button", { name: "Check out" }));
  expect(await screen.findByText("Your saved cards could not be read just now.")).toBeTruthy();
  expect(screen.queryByRole("button", { name: "Pay with VISA •••• 4242" })).toBeNull();
  fireEvent.press(screen.getByRole("button", { name: "Try again" }));
  expect(await screen.findByRole("button", { name: "Pay with VISA •••• 4242" })).toBeTruthy();
  expect(screen.queryByText("Your saved cards could not be read just now.")).toBeNull();
  expect(cardsAsked).toBe(2);
});

test("the store says so when its punch passes did not load, and tries again", async () => {
  let productsAsked = 0;
  fakeApi({
    ...base,
    "GET /api/v1/store/gift-certificates": { body: [] },
    "GET /api/v1/store/punch-passes": { body: [] },
    "GET /api/v1/store/punch-pass-products": () =>
      ++productsAsked === 1
        ? { status: 503, body: { code: "unavailable", message: "The passes could not be read just now.", fields: {} } }
        : { body: [{ id: 3, name: "10 open gyms", price: 15000, currency: "USD", visits: 10 }] },
  });
  renderApp();
  fireEvent.press(await screen.findByRole("button", { name: "More" }));
  fireEvent.press(await screen.findByRole("button", { name: "Store" }));
  expect(await screen.findByText("The passes could not be read just now.")).toBeTruthy();
  fireEvent.press(screen.getByRole("button", { name: "Try again" }));
  expect(await screen.findByText("10 open gyms · $150.00")).toBeTruthy();
  expect(screen.queryByText("The passes could not be read just now.")).toBeNull();
});

test("the class finder says so when the family's students did not load, and offers them after a retry", async () => {
  let studentsAsked = 0;
  fakeApi({
    ...base,
    "GET /api/v1/family/students": () =>
      ++studentsAsked === 1
        ? { status: 503, body: { code: "unavailable", message: "Your students could not be read just now.", fields: {} } }
        : { body: [{ id: 9, first_name: "Mia", last_name: "Lee", is_active: true }] },
  });
  renderApp();
  fireEvent.press(await screen.findByRole("button", { name: "Find the right class" }));
  expect(await screen.findByText("Your students could not be read just now.")).toBeTruthy();
  expect(screen.queryByText("Mia")).toBeNull();
  fireEvent.press(screen.getByRole("button", { name: "Try again" }));
  expect(await screen.findByText("Mia")).toBeTruthy();
  expect(screen.queryByText("Your students could not be read just now.")).toBeNull();
  expect(studentsAsked).toBe(2);
});
