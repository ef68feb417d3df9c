// The family's statement PDF: downloaded with the bearer token, then handed to the share sheet.
import { Directory, File, Paths } from "expo-file-system";
import * as Sharing from "expo-sharing";

export async function openStatement(url: string, token: string): Promise<void> {
  const folder = new Directory(Paths.cache, "statements");
  if (!folder.exists) folder.create();
  const file = await File.downloadFileAsync(url, folder, { headers: { Authorization: `Bearer ${token}` }, idempotent: true });
  await Sharing.shareAsync(file.uri, { mimeType: "application/pdf", UTI: "com.adobe.pdf" });
}
