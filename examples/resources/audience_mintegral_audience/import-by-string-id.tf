import {
  to = audience_mintegral_audience.ios_buyers
  id = "1148" # ta_id
}
