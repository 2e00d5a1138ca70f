# One export a day, whatever the number of CI jobs. The export task starts
# only in an apply: the first one, then the first apply after max_age has
# passed, after `triggers` or an argument changed, or after the panel
# stopped serving the result. Every other plan, apply and drift job reuses
# the recorded task: in a fresh checkout the refresh downloads its files
# again into output_dir and checks them against the sha256 in state.
resource "audience_altcraft_profile_export" "doctors" {
  source_type    = "segment"
  source_id      = 7
  custom_request = { occupation = "doctor" }
  output_dir     = "${path.root}/exports"
  max_age        = "24h"
  triggers = {
    # Bump to export again today.
    campaign = "spring"
  }
}

# The list reads files[0].path: on a day the export runs again it is
# unknown at plan, so the list is read at apply, after the new export.
data "audience_id_list" "doctors_idfa" {
  source      = audience_altcraft_profile_export.doctors.files[0].path
  column      = "idfa"
  output_path = "${path.root}/lists/doctors_idfa.txt"
  case        = "upper"
  format      = "uuid"
  invalid     = "skip"
}

# Uploads take the list's id (its output_path, but computed): unknown while
# the list waits for a new export, so the upload is planned for after it
# rather than failing on a list a fresh checkout does not have yet.
resource "audience_mintegral_file" "doctors" {
  source = data.audience_id_list.doctors_idfa.id
}
