"""Person linking: every roster record of every organisation linked to one stable person.

The public surface (the rest of the package is internal):

- ``link`` / ``link_new``: a full run, or only the new and changed records with the stored model;
- ``link_partitioned``: a run partition by partition (the policy's ``partitions``; ``partitions.py``
  has its steps for Airflow: ``plan``, ``link_partition``, ``finish``);
- ``explain``, ``decide``, ``review_queue``: the clerical review of pairs;
- ``LinkingPolicy`` / ``load_policy``: the thresholds and limits the linker decides by.
"""
from lienthong.linking.clerical import decide, explain, review_queue
from lienthong.linking.policy import LinkingPolicy, load_policy
from lienthong.linking.partitions import link_partitioned
from lienthong.linking.run import link, link_new

__all__ = ["LinkingPolicy", "decide", "explain", "link", "link_new", "link_partitioned", "load_policy", "review_queue"]
