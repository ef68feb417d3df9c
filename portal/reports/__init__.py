"""Staff reports over the portal's data, each as typed columns and rows that the deliveries
render as JSON, a table or CSV: enrollment by program, class or level; fill rate; revenue by
month; waitlist demand; drops with their reasons. Reads only; no models of its own."""
