# An account package: one account per row. Editing vip_accounts.txt plans an
# in-place update: the new content is uploaded and upload_id changes.
resource "audience_tpns_account_package" "vip" {
  source = "${path.module}/audiences/vip_accounts.txt"
}

# A zipped csv (a single column), sent under another name.
resource "audience_tpns_account_package" "churned" {
  source    = "${path.module}/audiences/churned.zip"
  file_name = "churned_2026_11.zip"

  timeouts = {
    create = "1h" # large packages on slow links
  }
}

# Device tokens instead of accounts: each row is checked to be 36 characters.
resource "audience_tpns_account_package" "beta_devices" {
  source       = "${path.module}/audiences/beta_tokens.csv"
  package_type = "token"
}

# Pass upload_id to TPNS's push API (audience_type = "package_account_push").
output "vip_upload_id" {
  value = audience_tpns_account_package.vip.upload_id
}
