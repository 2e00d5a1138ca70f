# Terraform 1.12 and later, OpenTofu 1.12 and later: import by identity.
import {
  to = audience_mintegral_audience.ios_buyers
  identity = {
    ta_id = 1148
  }
}
