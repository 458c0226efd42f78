terraform {
  required_providers {
    humanitec = {
      source = "humanitec/humanitec"
    }
  }
}

# Settings come from the block, else HUMANITEC_API_PREFIX / HUMANITEC_ORG /
# HUMANITEC_TOKEN, else ~/.humctl. Keep the token out of .tf files.
provider "humanitec" {
  org_id = "my-org"
}
