# A small list goes by one presigned PUT. Editing the file plans an
# in-place update: the new content is uploaded under a new object key.
resource "audience_futuredemand_upload" "newsletter" {
  source = "${path.module}/audiences/newsletter_sha256.csv"
}

# A large export goes by presigned multipart: 4 parts of 32 MiB in flight.
resource "audience_futuredemand_upload" "crm_export" {
  source      = "${path.module}/audiences/crm_export.csv"
  file_name   = "crm_export_2026_11.csv"
  part_size   = 33554432 # 32 MiB
  concurrency = 4

  timeouts = {
    create = "2h" # large files on slow links
  }
}

output "crm_export_object_key" {
  value = audience_futuredemand_upload.crm_export.object_key
}
