# A creative: its content type is read from its first bytes at plan time.
resource "audience_futuredemand_media" "spring_banner" {
  source = "${path.module}/creatives/spring_banner.jpg"
}

# A video creative, sent under another name.
resource "audience_futuredemand_media" "spring_spot" {
  source    = "${path.module}/creatives/spot_v3_final.mp4"
  file_name = "spring_spot.mp4"
}

output "spring_banner_url" {
  value = audience_futuredemand_media.spring_banner.url
}
