# An export with many columns (here a CRM file with _pid, email, idfa, ...)
# becomes a list of one IDFA per line: trimmed, upper-cased, checked, with
# blank values and the all-zero IDFA of opted-out devices left out.
data "audience_id_list" "ios" {
  source      = "${path.module}/exports/crm_export.csv"
  column      = "idfa"
  output_path = "${path.module}/build/ios_idfa.txt"
  case        = "upper"
  format      = "uuid"
  invalid     = "skip" # drop bad values instead of failing; see skipped_count
}

# The same export hashed for a platform that matches on hashed e-mails:
# SHA-256 of the trimmed, lower-cased address, gzip-compressed.
data "audience_id_list" "hashed_emails" {
  source      = "${path.module}/exports/crm_export.csv"
  column      = "email"
  output_path = "${path.module}/build/emails_sha256.txt.gz"
  case        = "lower"
  hash        = "sha256"
}

output "ios_devices" {
  value = data.audience_id_list.ios.entry_count
}

output "ios_skipped" {
  value = data.audience_id_list.ios.skipped_count
}
