# Every iOS audience whose name contains "buyers", across all pages.
data "audience_mintegral_audiences" "ios_buyers" {
  name     = "buyers"
  platform = "ios"
}

# Specific audiences by ID, e.g. to check when they can be updated again.
data "audience_mintegral_audiences" "by_id" {
  ids = [1147, 1148]
}

output "ios_buyer_audiences" {
  value = { for a in data.audience_mintegral_audiences.ios_buyers.audiences : a.name => a.id }
}
