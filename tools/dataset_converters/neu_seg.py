"""Convert NEU-Seg into the mmwsss layout.

Source: images/{training,test}/*.jpg + annotations/{training,test}/*.png (0 bg, 1 inclusion, 2 patches, 3 scratches);
image labels from the masks, several per image; no defect-free images. Cite Dong, Song and Yan (NEU-Seg).
Split: the source's training part -> train + val (--val-fraction, seeded, stratified by defective / defect-free),
its test part -> test. Resumable (finished files are verified and kept); never modifies the source.

Example::

    python tools/dataset_converters/neu_seg.py /datasets/NEU_Seg data/neu_seg
"""
from mmwsss.datasets.converters import public_set_main

if __name__ == '__main__':
    public_set_main('neu_seg', 'NEU-Seg')
