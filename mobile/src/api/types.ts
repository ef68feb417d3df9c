// Names for the generated schema types the screens use (src/api/family.ts is generated).
import type { components } from "./family";
import type { components as platform } from "./platform";

type S = components["schemas"];

// The schema types every nested object (availability, ages, price, schedule, levels, the portal
// settings...), so these are the generated types themselves: tsc checks each screen against the
// server's contract.
export type Offering = S["OfferingOutput"];
export type OfferingDetail = S["OfferingDetailOutput"];
export type OfferingFilters = S["OfferingFiltersOutput"];
export type Cart = S["CartOutput"];
export type Hold = S["HoldOutput"];
export type Order = S["OrderOutput"];
export type Payment = S["PaymentOutput"];
export type PaymentMethod = S["PaymentMethodOutput"];
export type Student = S["StudentOutput"];
export type Family = S["FamilyOutput"];
export type Guardian = S["GuardianOutput"];
export type Contact = S["ContactOutput"];
export type Policy = S["PolicyOutput"];
export type Enrollment = S["EnrollmentOutput"];
export type WaitlistEntry = S["WaitlistOutput"];
export type FamilyRequest = S["RequestOutput"];
export type MakeupToken = S["MakeupToken"];
export type TransferPreview = S["TransferPreview"];
export type Ledger = S["Ledger"];
export type LedgerEntry = S["LedgerOutput"];
export type GiftCertificate = S["GiftCertificateOutput"];
export type PunchPass = S["PunchPassOutput"];
export type PunchPassProduct = S["PunchPassProductOutput"];
export type Announcement = S["AnnouncementOutput"];
export type PortalConfig = S["PortalConfig"];
export type PaginatedOfferings = S["PaginatedOfferingOutputList"];
export type Device = S["DeviceOutput"];
export type DirectoryEntry = platform["schemas"]["DirectoryEntryOutput"];

/** The business's switches (GET /api/v1/portal `settings`). */
export type PortalSettings = S["PortalSettingsOutput"];

/** The published design tokens (DTCG) the app reads its colours and shapes from. */
export type DesignTokens = {
  color?: Record<string, { $value?: { hex?: string } } | string>;
  "color-dark"?: Record<string, { $value?: { hex?: string } } | string>;
  radius?: { base?: { $value?: { value?: number } } };
  spacing?: { base?: { $value?: { value?: number } } };
  font?: { family?: { $value?: string | string[] } };
};

/** A body whose type the schema cannot give (the design tokens, a JSON document of their own). */
export function typed<T>(body: unknown): T {
  return body as T;
}
