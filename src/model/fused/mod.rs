//! Fused CPU kernels for the few places where a chain of Burn ops costs more than the matmuls
//! around it on the flex backend (each op there is a full pass, often a strided copy).
//!
//! Each kernel is a forward over flex tensors plus the gradient of its inputs, registered with
//! Burn's autodiff as one node. [`run`] picks it when the backend is the CPU one (with or without
//! autodiff) and otherwise runs the Burn composition it replaces, which is also what the tests
//! compare it against. [`kernels`] is the one place that tells the backends apart, for these
//! kernels, the dropout masks and AdamW alike.

pub mod bf16;
mod cat;
mod layer_norm;
mod matmul;
mod permute;
mod rel_softmax;

pub use cat::cat_time;
pub use layer_norm::layer_norm;
pub use matmul::{Inputs, bf16_kernel, f32_fallback, matmul};
pub use permute::permute;
pub use rel_softmax::{rel_softmax, rel_softmax_composed};

use std::any::{Any, TypeId};
use std::fmt::Debug;
use std::marker::PhantomData;
use std::mem::{ManuallyDrop, MaybeUninit};

use burn::backend::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::tensor::backend::Backend;
use burn::tensor::ops::FloatTensor;
use burn::tensor::{DType, Tensor, TensorData, TensorPrimitive};

use super::{CpuBackend, CpuTrainBackend};

/// A forward over `N` f32 flex tensors and the gradient of each input.
trait Kernel<const N: usize>: Debug + Send + 'static {
    /// What the backward pass keeps from the forward.
    type State: Clone + Send + Debug + 'static;

    fn forward(&self, inputs: [&FlexTensor; N]) -> (FlexTensor, Self::State);

    fn backward(state: Self::State, grad: &FlexTensor) -> [FlexTensor; N];
}

/// Which implementation a backend's tensor work gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernels {
    /// Burn's CPU backend (flex) with autodiff: the fused kernels as autodiff nodes.
    CpuAutodiff,
    /// Burn's CPU backend without autodiff: the kernels' forward passes on flex tensors.
    Cpu,
    /// Any other backend (CUDA): the Burn compositions the kernels replace.
    Burn,
}

/// The implementation backend `B` gets. Decided by `TypeId`, which the compiler folds to a
/// constant per backend, so the model stays generic over any Burn backend at no run-time cost.
/// (A backend-extension trait, as in Burn's custom-kernel examples, would put a trait bound on
/// every generic of the model, trainer and decoder, with an impl per backend type.)
pub fn kernels<B: Backend>() -> Kernels {
    let b = TypeId::of::<B>();
    if b == TypeId::of::<CpuTrainBackend>() {
        Kernels::CpuAutodiff
    } else if b == TypeId::of::<CpuBackend>() {
        Kernels::Cpu
    } else {
        Kernels::Burn
    }
}

/// `kernel` on the CPU backend, `composed` (the same function from Burn ops) elsewhere.
fn run<B: Backend, K: Kernel<N>, const N: usize, const D: usize>(
    kernel: K,
    inputs: [Tensor<B, D>; N],
    composed: impl FnOnce([Tensor<B, D>; N]) -> Tensor<B, D>,
) -> Tensor<B, D> {
    if inputs.iter().any(|x| x.dtype() != DType::F32) {
        return composed(inputs);
    }
    match kernels::<B>() {
        Kernels::CpuAutodiff => {
            let inputs: [FloatTensor<Ad>; N] = inputs.map(|x| cast(x.into_primitive().tensor()));
            let out = tracked(kernel, inputs);
            Tensor::from_primitive(TensorPrimitive::Float(cast(out)))
        }
        Kernels::Cpu => {
            let inputs: [FlexTensor; N] = inputs.map(to_flex);
            let (out, _) = kernel.forward(inputs.each_ref());
            from_flex(out)
        }
        Kernels::Burn => composed(inputs),
    }
}

/// The flex tensor inside a tensor of the CPU backend (check [`kernels`] first).
pub fn to_flex<B: Backend, const D: usize>(x: Tensor<B, D>) -> FlexTensor {
    cast(x.into_primitive().tensor())
}

/// A flex tensor as a tensor of the CPU backend (check [`kernels`] first).
pub fn from_flex<B: Backend, const D: usize>(x: FlexTensor) -> Tensor<B, D> {
    Tensor::from_primitive(TensorPrimitive::Float(cast(x)))
}

type Ad = Autodiff<CpuBackend>;

/// Moves a value between two names of one type (a generic backend's tensor and the concrete CPU
/// one), after a `TypeId` check.
fn cast<T: 'static, U: 'static>(x: T) -> U {
    *(Box::new(x) as Box<dyn Any>)
        .downcast::<U>()
        .expect("fused kernels: backend type checked by TypeId")
}

/// The autodiff node of a kernel.
#[derive(Debug)]
struct Node<K>(PhantomData<K>);

impl<K: Kernel<N>, const N: usize> Backward<CpuBackend, N> for Node<K> {
    type State = K::State;

    fn backward(self, ops: Ops<Self::State, N>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<CpuBackend>(&ops.node);
        let input_grads = K::backward(ops.state, &grad);
        for (parent, g) in ops.parents.into_iter().zip(input_grads) {
            if let Some(node) = parent {
                grads.register::<CpuBackend>(node.id, g);
            }
        }
    }
}

fn tracked<K: Kernel<N>, const N: usize>(
    kernel: K,
    inputs: [FloatTensor<Ad>; N],
) -> FloatTensor<Ad> {
    let (out, state) = kernel.forward(inputs.each_ref().map(|x| &x.primitive));
    let nodes = inputs.map(|x| x.node);
    match Node::<K>(PhantomData)
        .prepare::<NoCheckpointing>(nodes)
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => prep.finish(state, out),
        OpsKind::UnTracked(prep) => prep.finish(out),
    }
}

fn dims(x: &FlexTensor) -> Vec<usize> {
    x.layout().shape().iter().copied().collect()
}

/// A kernel's output buffer of `n` floats, not zeroed first: for outputs this size zeroing is a
/// pass of its own. The kernel writes every element (with [`put`] or `MaybeUninit::write`).
pub struct Output(Vec<MaybeUninit<f32>>);

impl Output {
    pub fn new(n: usize) -> Self {
        let mut v = Vec::with_capacity(n);
        // SAFETY: MaybeUninit elements need no initialisation.
        unsafe { v.set_len(n) };
        Output(v)
    }

    pub fn buf(&mut self) -> &mut [MaybeUninit<f32>] {
        &mut self.0
    }

    /// # Safety
    /// Every element has been written.
    pub unsafe fn written(self) -> Vec<f32> {
        let mut v = ManuallyDrop::new(self.0);
        // SAFETY: same allocation, MaybeUninit<f32> has f32's layout, all elements initialised
        // (the caller's promise).
        unsafe { Vec::from_raw_parts(v.as_mut_ptr().cast::<f32>(), v.len(), v.capacity()) }
    }
}

/// Writes `src` into the start of `dst`.
pub fn put(dst: &mut [MaybeUninit<f32>], src: &[f32]) {
    for (d, s) in dst.iter_mut().zip(src) {
        d.write(*s);
    }
}

/// Writes zeros into `dst`.
pub fn put_zeros(dst: &mut [MaybeUninit<f32>]) {
    for d in dst {
        d.write(0.0);
    }
}

pub fn f32_tensor(data: Vec<f32>, shape: Vec<usize>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(data, shape))
}
