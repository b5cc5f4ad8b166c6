"""PyTorch twins of bench's convolution lines, for a side-by-side on the same machine:

    python3 Scripts/torch-kernels.py            # needs `pip install torch`; 2 threads

Prints the median milliseconds and GFLOP/s (nominal: 2 per multiply–add, backward twice the forward)
of torch.mm at n = 1024 and of conv2d forward and backward (input and weight gradients) at bench's
shapes: 3×3 at (8, 64, 64, 64) and (8, 128, 32, 32), 3×3 stride 2 after the (0, 1, 0, 1) pad, and
1×1 at (16, 128, 8, 8). The backward time is forward + backward minus the forward."""
import torch, time, torch.nn.functional as F, json, sys
torch.set_num_threads(2); torch.manual_seed(0)
def timeit(fn, warm=3, reps=15):
    for _ in range(warm): fn()
    ts=[]
    for _ in range(reps):
        t=time.perf_counter(); fn(); ts.append(time.perf_counter()-t)
    ts.sort(); return ts[len(ts)//2]
out=[]
a=torch.randn(1024,1024); b=torch.randn(1024,1024)
t=timeit(lambda: a@b); out.append(("mm1024", t*1e3, 2*1024**3/t/1e9))
def conv(shape, co, k, stride=1, pad=(1,1,1,1)):
    x=torch.randn(*shape, requires_grad=True); w=torch.randn(co,shape[1],k,k,requires_grad=True); bias=torch.randn(co,requires_grad=True)
    def f(): return F.conv2d(F.pad(x,pad) if pad!=(0,0,0,0) else x, w, bias, stride)
    y=f(); g=torch.randn_like(y)
    ho,wo=y.shape[2],y.shape[3]
    fl=2*shape[0]*co*ho*wo*shape[1]*k*k
    with torch.no_grad(): tf=timeit(f)
    def bwd():
        x.grad=None; w.grad=None; bias.grad=None
        y=f(); y.backward(g)
    tb=timeit(bwd)-tf
    return tf, tb, fl
for name,shape,co,k,s,pad in [("3x3 64",(8,64,64,64),64,3,1,(1,1,1,1)),("3x3 128",(8,128,32,32),128,3,1,(1,1,1,1)),
                              ("3x3s2",(8,64,64,64),64,3,2,(0,1,0,1)),("1x1",(16,128,8,8),128,1,1,(0,0,0,0))]:
    tf,tb,fl=conv(shape,co,k,s,pad)
    out.append((name+" fwd",tf*1e3,fl/tf/1e9)); out.append((name+" bwd",tb*1e3,2*fl/tb/1e9))
for n,ms,gf in out: print(f"{n:14s} {ms:9.3f} ms {gf:7.1f} GFLOP/s")
