# The AWS providers: one for the chosen region, and one pinned to us-east-1 because CloudFront's WAF web
# ACL (scope CLOUDFRONT) can only live there. Every resource gets the project tag through default_tags,
# which is what the CI role's tag conditions rely on.

provider "aws" {
  region = var.region

  default_tags {
    tags = local.tags
  }
}

provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"

  default_tags {
    tags = local.tags
  }
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  tags       = { Project = var.project }
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  # The table names of services/ledger/storage/tables.ts `tableNamesWithPrefix(project)`; the infra tests check
  # that they stay the same.
  table_names = {
    ledger     = "${var.project}-ledger"
    counters   = "${var.project}-counters"
    read_model = "${var.project}-read-model"
    quotas     = "${var.project}-quotas"
  }
}
