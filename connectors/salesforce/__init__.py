"""Salesforce: `mapping` turns Account, Contact and Opportunity records (sObject Tree
or REST query shape) into `connectors.records` (pure). No API client yet."""
