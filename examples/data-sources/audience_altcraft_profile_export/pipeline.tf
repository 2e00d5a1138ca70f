# From CRM to ad network in one apply: export segment 7 from Altcraft and
# upload the exported file to Mintegral as an audience file.
#
# The export runs again on every plan. When it yields the same bytes, the
# upload's file_md5 is unchanged and the plan is empty; when the segment
# changes, the plan updates the upload in place with the new content.
data "audience_altcraft_profile_export" "doctors" {
  source_type    = "segment"
  source_id      = 7
  custom_request = { occupation = "doctor" }
  output_dir     = "${path.root}/exports"
}

resource "audience_mintegral_file" "doctors" {
  source = data.audience_altcraft_profile_export.doctors.files[0].path
}

output "doctors_data_path" {
  value = audience_mintegral_file.doctors.data_path
}
