# Upload an audience list to the OpenIM server's object storage. The
# endpoint and an admin token come from OPENIM_ENDPOINT and OPENIM_TOKEN
# (or the provider's openim block).
resource "audience_openim_object" "vip_users" {
  source = "${path.module}/audiences/vip_users.csv"

  # Optional: the object name (default: the base name of source), the MIME
  # type (default: guessed from the name, text/csv here) and a group.
  name  = "audiences/vip_users.csv"
  group = "audience"
}

output "vip_users_url" {
  value = audience_openim_object.vip_users.url
}
