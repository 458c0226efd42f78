# Import an existing webhook by "<app_id>/<webhook_id>":
terraform import humanitec_webhook.deployments my-app/notify-deployments
