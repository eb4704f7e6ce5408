"""Convert KolektorSDD2 into the mmwsss layout.

Source: {train,test}/NNNNN.png + NNNNN_GT.png; one class (defect), empty mask = defect-free.
Cite Bozic, Tabernik and Skocaj, Computers in Industry 2021.
Split: the source's training part -> train + val (--val-fraction, seeded, stratified by defective / defect-free),
its test part -> test. Resumable (finished files are verified and kept); never modifies the source.

Example::

    python tools/dataset_converters/ksdd2.py /datasets/KolektorSDD2 data/ksdd2
"""
from mmwsss.datasets.converters import public_set_main

if __name__ == '__main__':
    public_set_main('ksdd2', 'KolektorSDD2')
