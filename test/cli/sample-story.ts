/** The alerts of samples/cloudtrail, as samples/README.md tells the story: rule name × count. */
export const CLOUDTRAIL_STORY = {
  'aws-ct-cloudtrail-stopped-or-deleted': 1,
  'aws-ct-discovery-burst': 1,
  'aws-ct-discovery-burst-by-access-key': 1,
  'aws-ct-ec2-export-task': 1,
  'aws-ct-ec2-keypair-known-attacker-name': 2,
  'aws-ct-ec2-launch-with-userdata-failed': 1,
  'aws-ct-ec2-launch-with-userdata-gpu-or-large': 2,
  'aws-ct-guardduty-detector-disabled': 1,
  'aws-ct-iam-compromised-key-quarantine': 1,
  'aws-ct-iam-quarantine-policy-removed-failed': 1,
  'aws-ct-vpc-flow-logs-deleted': 1,
};
