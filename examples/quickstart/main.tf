# Uploads devices.txt to Mintegral. `make demo` points the provider at the
# local sandbox through MINTEGRAL_* environment variables, so the provider
# block stays empty.
terraform {
  required_providers {
    audience = {
      source = "audiencekit/audience"
    }
  }
}

provider "audience" {}

resource "audience_mintegral_file" "devices" {
  source = "${path.module}/devices.txt"
}

output "data_path" {
  value = audience_mintegral_file.devices.data_path
}

output "file_md5" {
  value = audience_mintegral_file.devices.file_md5
}
