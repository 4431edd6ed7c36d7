# Which Terraform and which AWS provider this configuration is written for, and where its state lives.
# The state backend is configured at `terraform init` time (see README.md), because a backend block cannot
# read variables; the same bucket and lock table are passed as variables so the CI role may reach them.

terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Pinned to one minor version, the one validated (tests/integration/infra): patch releases only. 6.x
      # changed per-resource regions; 5.95 was the first with the user pool domain's `managed_login_version`.
      # The exact provider and its checksums are in the .terraform.lock.hcl that `terraform init` writes
      # (infra/README.md, "Provider versions and the lock file").
      version = "~> 5.100.0"
    }
  }

  backend "s3" {}
}
