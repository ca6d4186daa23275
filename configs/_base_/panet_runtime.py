# The engine mmpanet runs with, declared here so that the config dumped into
# a work dir states what ran. Every config in configs/ inherits this file.
# - PANetRunner: atomic checkpoints, and every process's random states saved
#   in each checkpoint and restored on resume (exact resumption).
# - DeviceAwareDistributedDataParallel: the distributed wrapper, which also
#   runs on CPU (gloo), where it synchronizes SyncBN with CPUSyncBatchNorm.
# Both are named with their scope, 'mmdet.': mmdet's own tools/train.py and
# tools/test.py (and mim train/test mmdet) build the runner from mmengine's
# root registry, as mmengine's Runner.wrap_model looks up the wrapper; the
# scope leads them to mmdet's registry, where mmpanet registers.
custom_imports = dict(imports=['mmpanet'], allow_failed_imports=False)
runner_type = 'mmdet.PANetRunner'
model_wrapper_cfg = dict(type='mmdet.DeviceAwareDistributedDataParallel')
