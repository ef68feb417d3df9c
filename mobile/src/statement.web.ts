// The web build fetches the PDF with the token and opens it in a new tab.
export async function openStatement(url: string, token: string): Promise<void> {
  const response = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const blob = await response.blob();
  window.open(URL.createObjectURL(blob), "_blank");
}
