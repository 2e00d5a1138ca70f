# A ticketing event's sales, exported as an Excel workbook: Future Demand
# builds its buyer audiences from it. A new export plans an in-place update
# that ingests it again for the same event.
resource "audience_futuredemand_ingest" "spring_tour_sales" {
  source = "${path.module}/sales/spring_tour_berlin.xlsx"
  kind   = "transaction_summary"
  eid    = "evt_abc123"
}

# Events in bulk, as UTF-8 CSV with a header row, on the CR API
# (futuredemand.cr_api_endpoint or FUTUREDEMAND_CR_API_ENDPOINT). Each row
# creates an event: rows added at the end are sent alone (the plan shows
# ingested_rows and sent_rows), and other edits are refused at plan.
resource "audience_futuredemand_ingest" "season_events" {
  source     = "${path.module}/events/season_2026.csv"
  kind       = "events"
  event_type = "prisma"
}

# Events may also come as an Excel workbook: its first sheet's header row
# and one event per row. An ingested workbook cannot grow row by row: any
# edit of it is refused at plan; put new events in a new file.
resource "audience_futuredemand_ingest" "festival_events" {
  source     = "${path.module}/events/festival_2026.xlsx"
  kind       = "events"
  event_type = "fdlive"
}

output "sales_ingest_response" {
  value = audience_futuredemand_ingest.spring_tour_sales.response
}
