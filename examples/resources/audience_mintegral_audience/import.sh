# The import ID is the audience's ta_id.
terraform import audience_mintegral_audience.ios_buyers 1148
