# Which Terraform and which AWS provider this configuration is written for, and where its state lives.
# The state backend is configured at `terraform init` time (see README.md), because a backend block cannot
# read variables; the same bucket and lock table are passed as variables so the CI role may reach them.

terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.x: the major version this was written and validated against; 6.x changed per-resource regions.
      # 5.95 is the first with the user pool domain's `managed_login_version` (5.83 added `user_pool_tier`).
      version = ">= 5.95, < 6.0"
    }
  }

  backend "s3" {}
}
