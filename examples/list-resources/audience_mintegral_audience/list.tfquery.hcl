# audiences.tfquery.hcl, beside the configuration that declares the
# provider. `terraform query` lists the account's audiences;
# `terraform query -generate-config-out=audiences.tf` also writes an
# import block and a resource block for each, which the next
# `terraform apply` imports.
list "audience_mintegral_audience" "console" {
  provider = audience
  limit    = 1000 # Terraform stops at 100 results by default

  # Every filter is optional; they combine.
  config {
    platform = "ios"
    # name      = "buyers" # a part of the name, as Mintegral's search matches
    # area_type = 1        # 1 outside mainland China, 2 mainland China
  }
}
