# The main job (tools/run_main_job.sh): the 550-iteration AdamW config beside
# it with the paper's MBN (Table 3 row 4, part of the full model, as in the
# COCO configs): BN synchronized across processes after every new layer,
# i.e. the FPN and bottom-up convs, the box head's convs and fc and the mask
# head's convs and FF convs, and in the backbone, which trains from scratch
# here. One process runs SyncBN as plain BN. mmdet's RPNHead has no norm
# option.
_base_ = './panet_r18-w32_pafpn-relu_adamw-550i_shapes.py'

norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    backbone=dict(norm_cfg=norm_cfg),
    neck=dict(norm_cfg=norm_cfg, bottom_up_norm_cfg=norm_cfg),
    roi_head=dict(
        bbox_head=dict(norm_cfg=norm_cfg), mask_head=dict(norm_cfg=norm_cfg)))
