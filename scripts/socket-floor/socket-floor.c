// What one chat delivery costs the kernel on this machine, with nothing of chatd around it: one
// 120-byte write() per socket, round-robin over 1,000 loopback TCP connections (as a broadcast
// reaches 1,000 sessions), the writer pinned to CPU 0 like chatd in chat-bench, an epoll reader
// on CPU 1 like the generator. Prints the writer's CPU per write and the reader's per read: the
// floor under chat-bench's fanout and direct scenarios (BENCHMARKS.md).
//
//   make bench-floor            (or: cc -O2 -pthread socket-floor.c -o socket-floor && ./socket-floor 50000)
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#define N 1000
static int srv[N], cli[N];
static volatile int done; static double readerCPU; static long reads;
static void pin(int cpu){cpu_set_t s;CPU_ZERO(&s);CPU_SET(cpu,&s);pthread_setaffinity_np(pthread_self(),sizeof s,&s);}
static void *reader(void *a){pin(1);int ep=epoll_create1(0);for(int i=0;i<N;i++){struct epoll_event e={.events=EPOLLIN,.data.fd=cli[i]};epoll_ctl(ep,EPOLL_CTL_ADD,cli[i],&e);}
 struct epoll_event ev[256];char buf[65536];struct rusage r0;getrusage(RUSAGE_THREAD,&r0);while(!done){int n=epoll_wait(ep,ev,256,100);for(int i=0;i<n;i++){reads++;while(read(ev[i].data.fd,buf,sizeof buf)==sizeof buf)reads++;}}
 struct rusage r;getrusage(RUSAGE_THREAD,&r);readerCPU=(r.ru_utime.tv_sec-r0.ru_utime.tv_sec)+(r.ru_utime.tv_usec-r0.ru_utime.tv_usec)/1e6+(r.ru_stime.tv_sec-r0.ru_stime.tv_sec)+(r.ru_stime.tv_usec-r0.ru_stime.tv_usec)/1e6;return 0;}
static double cpu(void){struct rusage r;getrusage(RUSAGE_THREAD,&r);return r.ru_utime.tv_sec+r.ru_utime.tv_usec/1e6+r.ru_stime.tv_sec+r.ru_stime.tv_usec/1e6;}
int main(int argc,char**argv){int rate=argc>1?atoi(argv[1]):50000;int l=socket(AF_INET,SOCK_STREAM,0);struct sockaddr_in a={.sin_family=AF_INET,.sin_addr.s_addr=htonl(0x7f000001)};
 bind(l,(void*)&a,sizeof a);socklen_t al=sizeof a;getsockname(l,(void*)&a,&al);listen(l,N);
 for(int i=0;i<N;i++){cli[i]=socket(AF_INET,SOCK_STREAM,0);connect(cli[i],(void*)&a,sizeof a);srv[i]=accept(l,0,0);int one=1;setsockopt(srv[i],IPPROTO_TCP,TCP_NODELAY,&one,sizeof one);}
 pthread_t t;pthread_create(&t,0,reader,0);pin(0);char msg[120];memset(msg,'x',sizeof msg);
 // paced: `rate` writes per second for 5 s, in bursts of N (one per socket) like a broadcast
 long total=(long)rate*5;long w=0;struct timespec s0,now;clock_gettime(CLOCK_MONOTONIC,&s0);double c0=cpu();
 while(w<total){for(int i=0;i<N&&w<total;i++,w++)write(srv[i],msg,sizeof msg);
  for(;;){clock_gettime(CLOCK_MONOTONIC,&now);double el=(now.tv_sec-s0.tv_sec)+(now.tv_nsec-s0.tv_nsec)/1e9;if(w<=el*rate)break;usleep(200);}}
 double c1=cpu();clock_gettime(CLOCK_MONOTONIC,&now);double el=(now.tv_sec-s0.tv_sec)+(now.tv_nsec-s0.tv_nsec)/1e9;
 printf("%ld writes in %.2f s (%.0f/s): writer CPU %.2f s = %.2f us per write, %.0f %% of a core\n",w,el,w/el,c1-c0,(c1-c0)/w*1e6,(c1-c0)/el*100);done=1;pthread_join(t,0);printf("reader (epoll + read, CPU 1): %ld reads, %.2f s CPU = %.2f us per read\n",reads,readerCPU,readerCPU/reads*1e6);return 0;}
