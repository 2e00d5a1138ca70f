# An audience file outside mainland China (S3). Editing ios_idfa.txt plans an
# in-place update: the new content is uploaded and data_path changes.
resource "audience_mintegral_file" "ios_devices" {
  source = "${path.module}/audiences/ios_idfa.txt"
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
