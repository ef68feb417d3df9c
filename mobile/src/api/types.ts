// Names for the generated schema types the screens use (src/api/family.ts is generated).
import type { components } from "./family";
import type { components as platform } from "./platform";

type S = components["schemas"];

// Fields the server computes (SerializerMethodField) are free-form objects in today's schema;
// these say what they hold. When the schema types them, drop the overrides (tsc then checks
// the generated types directly).
type Schedule = { start_date: string; end_date: string; days: string[]; start_time: string; end_time: string };
type Ages = { min: number | null; max: number | null };
type Price = { tuition: number; registration_fee: number; deposit: number; currency: string };
type Availability = { status: "OPEN" | "FULL"; openings: number | null; waitlist: number };
type Ref = { id: number; name: string };
type StudentRef = { id: number; first_name: string };
type Typed<T, O> = Omit<T, keyof O> & O;
type OfferingFields = { schedule: Schedule; ages: Ages; price: Price; availability: Availability };

export type Offering = Typed<S["OfferingOutput"], OfferingFields>;
export type OfferingDetail = Typed<S["OfferingDetailOutput"], OfferingFields & { instructors: S["StaffOutput"][] }>;
export type OfferingFilters = S["OfferingFiltersOutput"];
export type Cart = S["CartOutput"];
export type Hold = S["HoldOutput"];
export type Order = S["OrderOutput"];
export type Payment = S["PaymentOutput"];
export type PaymentMethod = S["PaymentMethodOutput"];
export type Student = Typed<S["StudentOutput"], { level: Ref | null }>;
export type Family = Typed<S["FamilyOutput"], { you: S["GuardianOutput"]; students: Student[] }>;
export type Guardian = S["GuardianOutput"];
export type Contact = S["ContactOutput"];
export type Policy = S["PolicyOutput"];
export type Enrollment = Typed<S["EnrollmentOutput"], { schedule: { days: string[]; start_time: string; end_time: string } }>;
export type WaitlistEntry = S["WaitlistOutput"];
export type FamilyRequest = Typed<S["RequestOutput"], { student: StudentRef; target_offering: Ref | null }>;
export type MakeupToken = Typed<S["MakeupToken"], { student: StudentRef }>;
export type TransferPreview = S["TransferPreview"];
export type Ledger = S["Ledger"];
export type LedgerEntry = S["LedgerOutput"];
export type GiftCertificate = S["GiftCertificateOutput"];
export type PunchPass = S["PunchPassOutput"];
export type PunchPassProduct = S["PunchPassProductOutput"];
export type Announcement = S["AnnouncementOutput"];
export type PortalConfig = S["PortalConfig"];
export type PaginatedOfferings = Typed<S["PaginatedOfferingOutputList"], { results: Offering[] }>;
export type Device = S["DeviceOutput"];
export type DirectoryEntry = platform["schemas"]["DirectoryEntryOutput"];

/** The business's switches (GET /api/v1/portal `settings`; the schema types it loosely). */
export type PortalSettings = {
  mobile_app_enabled: boolean;
  visitors_may_create_accounts: boolean;
  show_classes: boolean;
  show_camps: boolean;
  show_events: boolean;
  show_punch_passes: boolean;
  list_visible_when_logged_out: boolean;
  openings_display: string;
  show_levels: boolean;
  hold_timer_minutes: number;
  registration_mode: string;
  referral_source_required: boolean;
  absences_enabled: boolean;
  absence_notice_hours: number;
  makeups_enabled: boolean;
  transfers_enabled: boolean;
  transfers_next_level_only: boolean;
  drops_enabled: boolean;
  drop_notice_days: number;
  drop_reason_required: boolean;
  stored_payment_method_policy: "off" | "optional" | "required";
  gift_certificates_enabled: boolean;
  punch_passes_enabled: boolean;
  staff_bios_visible: boolean;
  welcome_heading: string;
  welcome_message: string;
};

/** The published design tokens (DTCG) the app reads its colours and shapes from. */
export type DesignTokens = {
  color?: Record<string, { $value?: { hex?: string } } | string>;
  "color-dark"?: Record<string, { $value?: { hex?: string } } | string>;
  radius?: { base?: { $value?: { value?: number } } };
  spacing?: { base?: { $value?: { value?: number } } };
  font?: { family?: { $value?: string | string[] } };
};

/** Where today's schema is loose (the overrides above), the one place a body gets its precise
 * type. */
export function typed<T>(body: unknown): T {
  return body as T;
}
