# File → audience: upload the device IDs, then build the audience from the
# uploaded file. Editing ios_idfa.txt uploads it again (a new data_path)
# and updates the same audience in place; Mintegral accepts that at most
# once every 12 hours, and an update due sooner is postponed until then,
# with a warning saying when.
resource "audience_mintegral_file" "ios_idfa" {
  source = "${path.module}/audiences/ios_idfa.txt"
}

resource "audience_mintegral_file" "ios_idfa_md5" {
  source = "${path.module}/audiences/ios_idfa_md5.txt"
}

resource "audience_mintegral_audience" "ios_buyers" {
  name     = "ios-buyers"
  platform = "ios"
  files = [
    {
      device_type = "IDFA"
      data_path   = audience_mintegral_file.ios_idfa.data_path
    },
    {
      device_type = "IDFA_MD5"
      data_path   = audience_mintegral_file.ios_idfa_md5.data_path
    },
  ]
}

# Mainland China: the file and the audience share area_type 2 (oss:// paths).
resource "audience_mintegral_file" "cn_oaid" {
  source    = "${path.module}/audiences/cn_oaid.csv.gz"
  area_type = 2
}

resource "audience_mintegral_audience" "cn_android" {
  name      = "cn-android-oaid"
  platform  = "android"
  area_type = 2
  files = [{
    device_type = "OAID"
    data_path   = audience_mintegral_file.cn_oaid.data_path
  }]

  timeouts = {
    create = "5m"
    update = "5m"
    delete = "5m"
  }
}

output "ios_buyers_ta_id" {
  value = audience_mintegral_audience.ios_buyers.ta_id
}

output "ios_buyers_updatable_after" {
  value = audience_mintegral_audience.ios_buyers.updatable_after
}
