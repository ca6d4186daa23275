# Full PANet (Table 3 row 9) with the per-level conv1 of the box and mask
# heads run as a loop over the levels instead of one grouped convolution:
# the same model (same parameters and outputs), for timing the two side by
# side with tools/analysis_tools/benchmark.py.
_base_ = '../panet/panet_r50_pafpn-relu_rbl-mst-mbn-160k_coco.py'

model = dict(
    roi_head=dict(
        bbox_head=dict(grouped_conv=False), mask_head=dict(
            grouped_conv=False)))
