# The engine mmpanet runs with, declared here so that the config dumped into
# a work dir states what ran. Every config in configs/ inherits this file.
# - PANetRunner: atomic checkpoints, and every process's random states saved
#   in each checkpoint and restored on resume (exact resumption).
# - DeviceAwareDistributedDataParallel: the distributed wrapper, which also
#   runs on CPU (gloo), where it synchronizes SyncBN with CPUSyncBatchNorm.
#   Named with its scope: mmengine's Runner.wrap_model looks the type up in
#   mmengine's root registry.
custom_imports = dict(imports=['mmpanet'], allow_failed_imports=False)
runner_type = 'PANetRunner'
model_wrapper_cfg = dict(type='mmdet.DeviceAwareDistributedDataParallel')
