# Table 8: PANet on Cityscapes (Table 9 row 3) started from the COCO-trained
# full PANet (Table 3 row 9) instead of ImageNet weights. First cut the COCO
# checkpoint to Cityscapes' 8 classes (rider starts from person):
#   python tools/model_converters/coco_to_cityscapes.py \
#       work_dirs/panet_r50_pafpn-relu_rbl-mst-mbn-160k_coco/iter_160000.pth \
#       work_dirs/panet_r50_pafpn-relu_rbl-mst-mbn-160k_coco/cityscapes.pth
_base_ = './panet_r50_pafpn-relu_rbl-mbn-24k_cityscapes.py'

load_from = ('work_dirs/panet_r50_pafpn-relu_rbl-mst-mbn-160k_coco/'
             'cityscapes.pth')
