# An audience file outside mainland China (S3). Editing ios_idfa.txt plans an
# in-place update: the new content is uploaded and data_path changes.
# device_type checks every line at plan: a line that is no IDFA (an e-mail
# address, an IMEI) fails the plan with the file and the line before anything
# is sent, and so does a file of lowercase UUIDs (GAIDs).
resource "audience_mintegral_file" "ios_devices" {
  source      = "${path.module}/audiences/ios_idfa.txt"
  device_type = "IDFA"
}

# A list built from an export by audience_id_list is clean (no byte order
# mark, \n line ends, trimmed, in the type's case, each ID once), so the
# upload can refuse anything irregular instead of warning.
data "audience_id_list" "android" {
  source      = "${path.module}/exports/crm_export.csv"
  column      = "gaid"
  output_path = "${path.module}/build/android_gaid.txt"
  case        = "lower"
  format      = "uuid"
  invalid     = "skip"
  dedupe      = true
}

resource "audience_mintegral_file" "android_devices" {
  source          = data.audience_id_list.android.output_path
  device_type     = "GAID"
  irregular_lines = "error"
}

# Mainland China (Aliyun OSS), gzip-compressed, sent under another name.
resource "audience_mintegral_file" "cn_devices" {
  source    = "${path.module}/audiences/cn_oaid.csv.gz"
  file_name = "oaid_2026_11.csv.gz"
  area_type = 2

  timeouts = {
    create = "1h" # large files on slow links
  }
}

output "ios_data_path" {
  value = audience_mintegral_file.ios_devices.data_path
}
