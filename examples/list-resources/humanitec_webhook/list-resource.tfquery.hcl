# List the webhooks of one application (Terraform 1.14+): `terraform query`.
# Add -generate-config-out=webhooks.tf to write a resource and an import block for each.
# Humanitec returns every header with its value, credentials included: review the
# generated file and move those into secret_headers_wo before committing it.
list "humanitec_webhook" "my_app" {
  provider         = humanitec
  include_resource = true # show each webhook's settings, not only its identity
  limit            = 100  # Terraform's default

  config {
    app_id = "my-app"
  }
}
