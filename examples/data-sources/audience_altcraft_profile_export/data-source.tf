# Export the doctors of database 1 who are VIPs and 30 years old, and
# download the result files into ./exports. custom_request values keep their
# type: 30 is sent as a number and true as a boolean.
#
# A data source runs on every plan, apply and refresh: each run starts a new
# export task on Altcraft and downloads the files again.
data "audience_altcraft_profile_export" "vip_doctors" {
  source_type = "database"
  source_id   = 1

  custom_request = {
    occupation = "doctor"
    age        = 30
    vip        = true
  }

  output_dir = "${path.root}/exports"

  timeouts = {
    read = "30m" # large databases take a while to export
  }
}

# Without output_dir nothing is downloaded; urls lists the files on the
# panel (downloading them needs the API token).
data "audience_altcraft_profile_export" "segment_links" {
  source_type = "segment"
  source_id   = 7
}

output "vip_doctors_file" {
  value = data.audience_altcraft_profile_export.vip_doctors.files[0].path
}

output "vip_doctors_total" {
  value = data.audience_altcraft_profile_export.vip_doctors.total
}

output "segment_urls" {
  value = data.audience_altcraft_profile_export.segment_links.urls
}
