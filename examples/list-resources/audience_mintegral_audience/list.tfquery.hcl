# audiences.tfquery.hcl, beside the configuration that declares the
# provider. `terraform query` lists the account's audiences;
# `terraform query -generate-config-out=audiences.tf` also writes an
# import block and a resource block for each, which the next
# `terraform apply` imports.
#
# Leave out the audiences this configuration already manages: generated
# again, one would sit at two addresses, and destroying either deletes the
# live audience. Pass their ta_ids from state:
#
#   terraform query -generate-config-out=audiences.tf \
#     -var "managed_ta_ids=$(terraform show -json | jq -c '[.. | objects | select(.mode? == "managed" and .type? == "audience_mintegral_audience") | .values.ta_id]')"
variable "managed_ta_ids" {
  type    = list(number)
  default = []
}

list "audience_mintegral_audience" "console" {
  provider = audience
  limit    = 1000 # Terraform stops at 100 results by default

  # Every filter is optional; they combine.
  config {
    exclude_ids = var.managed_ta_ids
    platform    = "ios"
    # name_prefix = "console-" # only names starting with this (case included)
    # name        = "buyers"   # a part of the name, as Mintegral's search matches
    # area_type   = 1          # 1 outside mainland China, 2 mainland China
  }
}
