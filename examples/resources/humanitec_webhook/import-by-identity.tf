# Import an existing webhook by its identity (Terraform 1.12+):
import {
  to = humanitec_webhook.deployments
  identity = {
    app_id = "my-app"
    id     = "notify-deployments"
  }
}
