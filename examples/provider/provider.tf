# Every setting falls back to an environment variable, so the provider block
# may be empty. Set only the platforms you use.
provider "audience" {
  mintegral = {
    access_key = "your-access-key" # or MINTEGRAL_ACCESS_KEY
    # api_key from MINTEGRAL_API_KEY
  }

  tpns = {
    access_id = "1500000001" # or TPNS_ACCESS_ID
    region    = "singapore"  # or TPNS_REGION
    # secret_key from TPNS_SECRET_KEY
  }
}
