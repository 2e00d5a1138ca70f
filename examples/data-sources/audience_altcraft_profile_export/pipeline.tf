# From CRM to ad network in one apply. The Altcraft export is a CRM file
# (_pid, email, names, city, ..., idfa, gaid): it must never be uploaded as
# is. audience_id_list takes the one column each platform needs, and only
# that reaches the platform.
#
# The export runs again on every plan. When it yields the same profiles, the
# lists are byte for byte the same, the uploads' file_md5 are unchanged and
# the plan is empty; when the segment changes, the lists are uploaded again.
#
# The export (personal data) goes to exports/, the lists to lists/: a CI
# apply job needs the lists, never the export. Each list has its own
# output_path: two data sources writing one file fail the plan.
data "audience_altcraft_profile_export" "doctors" {
  source_type    = "segment"
  source_id      = 7
  custom_request = { occupation = "doctor" }
  output_dir     = "${path.root}/exports"
}

# iOS advertising IDs for Mintegral: one IDFA per line. Android profiles
# (blank idfa) and devices that limit ad tracking (the all-zero IDFA) are
# skipped and counted in skipped_count. A segment that matches nobody fails
# here, so an empty list never reaches Mintegral.
data "audience_id_list" "doctors_idfa" {
  source      = data.audience_altcraft_profile_export.doctors.files[0].path
  column      = "idfa"
  output_path = "${path.root}/lists/doctors_idfa.txt"
  case        = "upper"
  format      = "uuid"
  invalid     = "skip"
}

resource "audience_mintegral_file" "doctors" {
  source = data.audience_id_list.doctors_idfa.output_path
}

# The audience Mintegral targets, fed by the uploaded list. A new list is a
# new data_path, which updates the audience in place. Mintegral takes one
# update every 12 hours: a change due sooner does not fail the plan; it is
# postponed with a warning and sent by the first plan or apply after the
# window.
resource "audience_mintegral_audience" "doctors" {
  name     = "crm-doctors-ios"
  platform = "ios"
  files = [{
    device_type = "IDFA"
    data_path   = audience_mintegral_file.doctors.data_path
  }]
}

# For a platform that matches on hashed e-mails: SHA-256 of each trimmed,
# lower-cased address, never the address itself.
data "audience_id_list" "doctors_email_sha256" {
  source      = data.audience_altcraft_profile_export.doctors.files[0].path
  column      = "email"
  output_path = "${path.root}/lists/doctors_email_sha256.txt"
  case        = "lower"
  hash        = "sha256"
}

# TPNS pushes to the app's accounts: here the Altcraft profile ID, which the
# app binds as the TPNS account.
data "audience_id_list" "doctors_accounts" {
  source      = data.audience_altcraft_profile_export.doctors.files[0].path
  column      = "_pid"
  output_path = "${path.root}/lists/doctors_accounts.txt"
}

resource "audience_tpns_account_package" "doctors" {
  source = data.audience_id_list.doctors_accounts.output_path
}

output "doctors_data_path" {
  value = audience_mintegral_file.doctors.data_path
}

output "doctors_audience_id" {
  value = audience_mintegral_audience.doctors.ta_id
}

output "doctors_devices" {
  value = data.audience_id_list.doctors_idfa.entry_count
}

output "doctors_tpns_upload_id" {
  value = audience_tpns_account_package.doctors.upload_id
}
