"""Convert DAGM 2007 into the mmwsss layout.

Source: Class<N>/{Train,Test}/*.PNG + Label/Labels.txt + Label/*_label.PNG (weak ellipses);
class N = ClassN's defect. Cite Wieler and Hahn, DAGM 2007 competition.
Split: the source's training part -> train + val (--val-fraction, seeded, stratified by defective / defect-free),
its test part -> test. Resumable (finished files are verified and kept); never modifies the source.

Example::

    python tools/dataset_converters/dagm.py /datasets/DAGM data/dagm
"""
from mmwsss.datasets.converters import public_set_main

if __name__ == '__main__':
    public_set_main('dagm', 'DAGM 2007')
